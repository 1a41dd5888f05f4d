"""Starts an RQ worker (named queues, scheduler, and the maintenance timer) inside the app context."""
from portal.worker import main

if __name__ == "__main__":
    main()
