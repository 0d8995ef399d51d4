"""Celery beat's scheduler: django-celery-beat's database scheduler, recording a heartbeat
on every tick (apps.core.heartbeats) so /api/v1/health can tell whether beat is running."""

from django_celery_beat.schedulers import DatabaseScheduler

from apps.core.heartbeats import BEAT, heartbeat_record


class HeartbeatScheduler(DatabaseScheduler):
    def tick(self, *args, **kwargs):
        heartbeat_record(BEAT)
        return super().tick(*args, **kwargs)
