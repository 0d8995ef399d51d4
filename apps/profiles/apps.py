from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "apps.profiles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.profiles.geo import geo_database
        from apps.profiles.hooks import (
            ProfileFollower,
            profile_change_subscribe,
            profile_follower_register,
        )
        from apps.profiles.models import ConsentChange, Entity, Session
        from apps.profiles.services.segments import segments_refresh_live

        # Opened at start, so that a missing or corrupt file is said once, before any request.
        geo_database()

        # First subscriber: what live segments change is itself a change the next ones see.
        profile_change_subscribe(segments_refresh_live)
        profile_follower_register(
            ProfileFollower(
                key="sessions",
                model=Session,
                erasure_rows=lambda profile_id, ids: [
                    Session.objects.filter(profile_id=profile_id).order_by("-updated")
                ],
                # After the events, which name their session.
                erase_rank=2,
            )
        )
        profile_follower_register(
            ProfileFollower(
                key="consent_changes",
                model=ConsentChange,
                erasure_rows=lambda profile_id, ids: [
                    ConsentChange.objects.filter(profile_id=profile_id).order_by("-at", "-id")
                ],
            )
        )
        profile_follower_register(
            ProfileFollower(
                key="entities",
                model=Entity,
                erasure_rows=lambda profile_id, ids: [
                    Entity.objects.filter(profile_id=profile_id).order_by("type", "-updated")
                ],
            )
        )
