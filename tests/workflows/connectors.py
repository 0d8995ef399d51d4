"""Helpers for connector action tests: a resource and one run of an action against it."""

from __future__ import annotations

from apps.destinations.services import resource_create
from tests.workflows.graphs import run_action


def resource(kind: str, credentials: dict, *, test_credentials: dict | None = None, name=None):
    return resource_create(
        name=name or f"{kind} resource",
        type=kind,
        credentials=credentials,
        test_credentials=test_credentials,
    )


def run(action_id: str, config: dict, *, test_run: bool = False, **flow_kwargs):
    """[(port, value)] of one run, and the flow (its messages are the node's log)."""
    flow_kwargs.setdefault(
        "profile",
        {
            "id": "p1",
            "data": {
                "pii": {"firstname": "Ada"},
                "contact": {
                    "email": {"main": "Ada@Example.com"},
                    "phone": {"mobile": "+447700900123"},
                },
            },
        },
    )
    flow_kwargs.setdefault("event", {"id": "e1", "type": "purchase", "properties": {"total": 42}})
    results, flow = run_action(action_id, config, test_run=test_run, **flow_kwargs)
    return results, flow
