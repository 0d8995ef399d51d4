from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models import Q

        from apps.events.models import Event
        from apps.profiles.hooks import ProfileFollower, profile_follower_register
        from apps.profiles.models import Session

        def erasure_rows(profile_id: str, ids: list[str]):
            # Events of the profile, of its sessions, and those stored without a profile row
            # (saveProfile=false) that name it in metadata. The last is a scan of the
            # profile-less events, acceptable for a rare operator action that must leave
            # nothing behind.
            sessions = Session.objects.filter(profile_id=profile_id).values("pk")
            return Event.objects.filter(
                Q(profile_id=profile_id)
                | Q(session_id__in=sessions)
                | Q(profile__isnull=True, metadata__profile_id__in=ids)
            )

        profile_follower_register(
            ProfileFollower(
                key="events",
                model=Event,
                erasure_rows=erasure_rows,
                # After the runs and deliveries of these events, before their sessions.
                erase_rank=1,
                session_field="session",
            )
        )
