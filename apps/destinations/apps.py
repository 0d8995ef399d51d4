from django.apps import AppConfig


class DestinationsConfig(AppConfig):
    name = "apps.destinations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models import Q

        from apps.destinations.models import Delivery
        from apps.destinations.services.scheduling import profile_deliveries_schedule
        from apps.profiles.hooks import (
            ProfileFollower,
            profile_change_subscribe,
            profile_follower,
            profile_follower_register,
        )

        # Every profile change schedules (or pushes back) the profile's pending syncs, in the
        # writer's transaction.
        profile_change_subscribe(profile_deliveries_schedule)

        def erasure_rows(profile_id: str, ids: list[str]):
            events = profile_follower("events").erasure_rows(profile_id, ids).values("pk")
            return Delivery.objects.filter(Q(profile_id=profile_id) | Q(event_id__in=events))

        def before_merge(merged_ids: list[str], survivor_id: str) -> None:
            # A pending profile sync of a merged profile is superseded by the survivor's (the
            # merge itself schedules one); the other deliveries are history and follow.
            Delivery.objects.filter(
                profile_id__in=merged_ids, status=Delivery.Status.PENDING, event__isnull=True
            ).delete()

        profile_follower_register(
            ProfileFollower(
                key="deliveries",
                model=Delivery,
                erasure_rows=erasure_rows,
                before_merge=before_merge,
            )
        )
