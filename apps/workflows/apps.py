from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models import Q

        from apps.profiles.hooks import ProfileFollower, profile_follower, profile_follower_register
        from apps.workflows import signals
        from apps.workflows.models import WorkflowRun

        signals.connect()

        def erasure_rows(profile_id: str, ids: list[str]):
            # The profile's runs and the runs of its events (an event's run may name another
            # profile, e.g. the one it was merged into later).
            events = profile_follower("events").erasure_rows(profile_id, ids).values("pk")
            return WorkflowRun.objects.filter(Q(profile_id=profile_id) | Q(event_id__in=events))

        profile_follower_register(
            ProfileFollower(key="workflow_runs", model=WorkflowRun, erasure_rows=erasure_rows)
        )
