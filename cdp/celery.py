import os

import redis
from celery import Celery
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")


class _RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, made to survive a broker that dies under a worker.

    When the connection error is first seen on another socket than the pending BRPOP (the
    remote-control subscription, an ack), Celery's clean-up closes the channel twice: the
    first close fails half-way (re-reading the dead BRPOP socket) and detaches the transport
    from its connection, the second one restores the unacknowledged messages through a new
    pool whose parameters come from that connection, now None. The AttributeError that
    follows is not a connection error, so the worker stopped with "Unrecoverable error:
    AttributeError("'NoneType' object has no attribute 'hostname'")". Here it is a
    connection error: the consumer ignores it and reconnects. The messages stay in the
    broker's unacked set (restored after the visibility timeout) if the broker kept its
    data; if not, the events are `collected` in PostgreSQL and the requeue sweep sends them
    again."""

    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection.client is None:
            raise redis.exceptions.ConnectionError("the broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    Channel = _RedisChannel


# Every Redis broker URL (redis://, rediss://, the embedded server's redis+socket://) uses it.
TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = "cdp.celery:RedisTransport"

app = Celery("cdp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
