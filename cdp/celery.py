import logging
import os

import redis
from celery import Celery
from celery.signals import after_setup_logger
from django.conf import settings
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


class QuietTicks(logging.Filter):
    """Drops the INFO lines of beat ticks that found nothing to do.

    The delivery dispatch ticks every 2 seconds: beat's "Sending due task", the worker's
    "received" and "succeeded" made about 5,400 lines an hour on an idle CDP, burying the lines
    about work. A tick's "succeeded" line stays when its result says it did something (a
    non-empty list, a non-zero count); every other line of other tasks stays as it was."""

    def __init__(self, task_names: frozenset[str]) -> None:
        super().__init__()
        self.task_names = task_names

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        args = record.args
        if isinstance(args, dict):  # the worker's received / succeeded lines
            if args.get("name") not in self.task_names:
                return True
            return "return_value" in args and args["return_value"] not in _NOTHING_DONE
        if isinstance(args, tuple) and len(args) == 2:  # beat: (entry name, task name)
            return args[1] not in self.task_names
        return True


_NOTHING_DONE = ("None", "0", "[]", "{}", "()")


def frequent_beat_tasks(schedule: dict[str, dict], *, under_seconds: float = 600) -> frozenset:
    """The tasks beat sends more often than every `under_seconds` (ticks, not jobs)."""
    return frozenset(
        entry["task"]
        for entry in schedule.values()
        if isinstance(entry["schedule"], int | float) and entry["schedule"] < under_seconds
    )


@after_setup_logger.connect
def quiet_ticks(**_kwargs) -> None:
    """Once the worker or beat has set up its logging (the settings are loaded by then)."""
    ticks = QuietTicks(frequent_beat_tasks(settings.CELERY_BEAT_SCHEDULE))
    for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy"):
        logging.getLogger(name).addFilter(ticks)
