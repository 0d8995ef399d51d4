from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.events.history import StoredEventHistory, history_sql
        from apps.events.models import Event
        from apps.events.selectors import profile_events_to_erase
        from apps.profiles.hooks import (
            EventHistory,
            ProfileFollower,
            event_history_register,
            profile_follower_register,
        )

        profile_follower_register(
            ProfileFollower(
                key="events",
                model=Event,
                erasure_rows=profile_events_to_erase,
                # After the runs and deliveries of these events, before their sessions.
                erase_rank=1,
                session_field="session",
            )
        )
        event_history_register(
            EventHistory(
                provider=lambda profile_id, now: StoredEventHistory(profile_id, now=now),
                sql=history_sql,
            )
        )
