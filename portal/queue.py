"""Redis and the RQ queues. Redis is only the transport; the database is the source of truth."""
from flask import current_app
from redis import Redis
from rq import Queue

_connections = {}


def redis_connection(url=None):
    url = url or current_app.config["REDIS_URL"]
    connection = _connections.get(url)
    if connection is None:
        connection = _connections[url] = Redis.from_url(url)
    return connection


def queue(name="exports"):
    return Queue(name, connection=redis_connection(),
                 default_timeout=current_app.config["RQ_JOB_TIMEOUT"])

