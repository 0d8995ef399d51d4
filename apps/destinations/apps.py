from django.apps import AppConfig


class DestinationsConfig(AppConfig):
    name = "apps.destinations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.destinations.models import Delivery
        from apps.destinations.selectors import (
            event_deliveries_to_erase,
            profile_deliveries_to_erase,
        )
        from apps.destinations.senders import resource_plugins_ensure
        from apps.destinations.services.erasure_forwarding import erasure_deletion_requests_record
        from apps.destinations.services.scheduling import (
            merged_profile_syncs_drop,
            profile_deliveries_schedule,
        )
        from apps.profiles.hooks import (
            ProfileFollower,
            profile_change_subscribe,
            profile_follower_register,
        )

        # Resource types and senders of other packages (entry points `cdp.resource_types`,
        # `cdp.senders`); a broken one is logged, reported by the health endpoint and skipped.
        resource_plugins_ensure()
        # Every profile change schedules (or pushes back) the profile's pending syncs, in the
        # writer's transaction.
        profile_change_subscribe(profile_deliveries_schedule)
        profile_follower_register(
            ProfileFollower(
                key="deliveries",
                model=Delivery,
                erasure_rows=profile_deliveries_to_erase,
                erasure_hangs_on=("events", event_deliveries_to_erase),
                before_merge=merged_profile_syncs_drop,
                after_erasure=erasure_deletion_requests_record,
            )
        )
