"""The admin action that replays selected events through the current workflows (used by
EventAdmin)."""

from django.contrib import admin, messages

from apps.workflows.services.replay import REPLAY_MAX, events_replay_enqueue


@admin.action(description="Replay through the current workflows")
def replay_events_through_workflows(modeladmin, request, queryset) -> None:
    # Replays change profiles: reserved to those who may change workflows.
    if not request.user.has_perm("workflows.change_workflow"):
        modeladmin.message_user(
            request, "Replaying events needs the permission to change workflows.", messages.ERROR
        )
        return
    ids = list(queryset.values_list("pk", flat=True)[: REPLAY_MAX + 1])
    queued = events_replay_enqueue(event_ids=ids)
    modeladmin.message_user(
        request,
        f"{queued} event(s) queued for replay. Events still waiting for their first run are "
        "skipped; the replays show in the workflow runs with replay = yes.",
        messages.SUCCESS,
    )
    if len(ids) > REPLAY_MAX:
        modeladmin.message_user(
            request,
            f"Only the first {REPLAY_MAX} selected events were queued; filter the list to "
            "replay the rest.",
            messages.WARNING,
        )
