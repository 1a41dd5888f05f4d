"""The sandbox's own pages: fault switches per company and what the sandbox received."""
