from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.profiles.hooks import ProfileFollower, profile_follower_register
        from apps.workflows import signals
        from apps.workflows.actions import plugin_actions_ensure
        from apps.workflows.models import ParkedRun, WorkflowRun
        from apps.workflows.selectors import (
            event_runs_to_erase,
            profile_parked_to_erase,
            profile_runs_to_erase,
        )

        signals.connect()
        # Actions of other packages (entry points `cdp.actions`); a broken one is logged,
        # reported by the health endpoint and skipped.
        plugin_actions_ensure()
        profile_follower_register(
            ProfileFollower(
                key="workflow_runs",
                model=WorkflowRun,
                erasure_rows=profile_runs_to_erase,
                erasure_hangs_on=("events", event_runs_to_erase),
            )
        )
        # Parked branches follow their profile: a merge re-points them (they resume on the
        # survivor), an erasure deletes them (cancelled) before the runs they belong to.
        profile_follower_register(
            ProfileFollower(
                key="parked_runs",
                model=ParkedRun,
                erasure_rows=profile_parked_to_erase,
                erase_rank=-1,
            )
        )
