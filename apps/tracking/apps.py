from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "apps.tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.profiles.hooks import segment_transition_subscribe
        from apps.tracking.segment_events import segment_transition_events_store

        # Every recorded segment entry or exit stores its segment-entered / segment-left event,
        # in the writer's transaction.
        segment_transition_subscribe(segment_transition_events_store)
