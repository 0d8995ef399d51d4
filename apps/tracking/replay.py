"""Replaying stored events through the workflows that route them now (admin action; the
admin enqueues them through tracking.handoff.events_replay_enqueue)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from apps.events.models import Event
from apps.tracking.processing import (
    TRANSIENT_ERRORS,
    Processed,
    events_one_by_one,
    events_run,
    profile_lock,
)
from apps.workflows.actions import CONNECTORS_GROUP, action_class_for
from apps.workflows.models import Workflow
from apps.workflows.selectors import routing_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplayedWorkflow:
    name: str
    calls_out: bool  # it has actions that call other systems (HTTP calls, connectors)


@dataclass(frozen=True, slots=True)
class ReplayPreview:
    events: int
    waiting: int  # still `collected`: skipped, they are about to run anyway
    workflows: list[ReplayedWorkflow]


def replay_preview(*, event_ids: Iterable[str]) -> ReplayPreview:
    """What replaying the events would run: the workflows their rules route them to now, and
    which of those call other systems again (the confirmation page says so)."""
    ids = list(event_ids)
    pairs = set(Event.objects.filter(pk__in=ids).values_list("source_id", "type").distinct())
    waiting = Event.objects.filter(pk__in=ids, status=Event.Status.COLLECTED).count()
    table = routing_table()
    workflow_ids = {
        rule.workflow_id
        for source_id, event_type in pairs
        for rule in table.rules_for(source_id, event_type)
    }
    workflows = [
        ReplayedWorkflow(name=workflow.name, calls_out=_calls_out(workflow.graph))
        for workflow in Workflow.objects.filter(pk__in=workflow_ids)
        .only("name", "graph")
        .order_by("name")
    ]
    return ReplayPreview(events=len(ids), waiting=waiting, workflows=workflows)


def _calls_out(graph: object) -> bool:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    for node in nodes if isinstance(nodes, list) else ():
        data = node.get("data") if isinstance(node, dict) else None
        spec = data.get("spec") if isinstance(data, dict) else None
        action = action_class_for(spec) if isinstance(spec, dict) else None
        if action is not None and action.group == CONNECTORS_GROUP:
            return True
    return False


def events_replay(*, event_ids: Iterable[str]) -> Processed:
    """Run stored events through the workflows their rules route them to now; the runs are
    recorded with replay=True and may repeat earlier ones. The events keep their status.
    Events still waiting (`collected`) are skipped: they are about to run anyway. An event
    that breaks its group's replay (one that cannot be read back) is skipped alone."""
    ids = list(event_ids)
    by_profile: dict[str | None, list[str]] = {}
    for event_id, profile_id in (
        Event.objects.filter(pk__in=ids)
        .exclude(status=Event.Status.COLLECTED)
        .values_list("id", "profile_id")
    ):
        by_profile.setdefault(profile_id, []).append(event_id)
    replayed = Processed()
    for profile_id, group in by_profile.items():
        ordered = Event.objects.filter(pk__in=group).order_by("time", "inserted", "id")
        try:
            with transaction.atomic():
                if profile_id:
                    profile_lock(profile_id)
                events = list(ordered)
                follow_up = events_run(
                    events, profile_id=profile_id, stored=True, replay=True
                ).follow_up
                follow_up.events = len(events)
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            logger.exception("Replay of profile %s failed; one event at a time", profile_id)
            with transaction.atomic():
                if profile_id:
                    profile_lock(profile_id)
                follow_up, _ = events_one_by_one(
                    list(ordered.values_list("id", flat=True)), profile_id=profile_id, replay=True
                )
        replayed.events += follow_up.events
        for waiting in follow_up.profile_ids:
            replayed.profile_add(waiting)
        replayed.event_ids.extend(follow_up.event_ids)
    return replayed
