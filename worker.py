"""Starts an RQ worker (named queues, scheduler and reconciler) inside the app context."""
from portal.worker import main

if __name__ == "__main__":
    main()
