"""IF nodes route by aggregates over the profile's stored events, through the real event
processing (the StoredEventHistory a run gets)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps import notation
from apps.events.history import StoredEventHistory
from apps.profiles.models import Profile
from apps.tracking.processing import profile_events_process
from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ConfigError
from apps.workflows.models import WorkflowRun
from tests.events.factories import EventFactory as StoredEventFactory
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import edge, graph, node, run_action

pytestmark = pytest.mark.django_db

FREQUENT_BUYER = 'count(events type "purchase" in last 7 days) > 2'


def _tiering_workflow():
    """start -> if(frequent buyer) -> true: traits.tier = "gold", false: traits.tier = "basic"."""
    return WorkflowFactory(
        graph=graph(
            [
                node("start", "start"),
                node("if", "if", condition=FREQUENT_BUYER),
                node("gold", "copy_data", traits={"set": {"profile@traits.tier": "gold"}}),
                node("basic", "copy_data", traits={"set": {"profile@traits.tier": "basic"}}),
            ],
            [
                edge("start", "if"),
                edge("if", "gold", "true"),
                edge("if", "basic", "false"),
            ],
        )
    )


@pytest.mark.parametrize(
    ("purchase_ages", "tier", "port"),
    [
        # The purchase being processed (stored, now) counts: 2 earlier ones make 3.
        ([timedelta(days=1), timedelta(days=6)], "gold", "true"),
        # One of them is older than the window: 2 in it.
        ([timedelta(days=1), timedelta(days=8)], "basic", "false"),
        ([], "basic", "false"),
    ],
)
def test_an_if_node_routes_by_the_count_of_stored_purchases(purchase_ages, tier, port):
    workflow = _tiering_workflow()
    RuleFactory(workflow=workflow, event_type="purchase")
    profile = ProfileFactory()
    now = timezone.now()
    for age in purchase_ages:
        StoredEventFactory(profile=profile, type="purchase", time=now - age)
    EventFactory(profile=profile, type="purchase", time=now)

    profile_events_process(profile_id=profile.pk)

    run = WorkflowRun.objects.get()
    assert run.status == "ok"
    assert [(entry["node"], entry["port"]) for entry in run.log] == [
        ("start", "payload"),
        ("if", port),
        ("gold" if port == "true" else "basic", "payload"),
    ]
    assert Profile.objects.get(pk=profile.pk).traits == {"tier": tier}


def test_a_condition_set_shares_the_runs_answers(django_assert_num_queries):
    profile = ProfileFactory()
    StoredEventFactory(profile=profile, type="purchase", properties={"price": 70})
    history = StoredEventHistory(profile.pk)
    conditions = {
        "spent": 'sum(event@properties.price type "purchase") >= 50',
        "big_spender": 'sum(event@properties.price type "purchase") >= 100',
        "recent": 'days_since(events type "purchase") < 1',
    }

    with django_assert_num_queries(2):
        results, _ = run_action(
            "condition_set",
            {"conditions": conditions},
            profile={"id": profile.pk},
            history=history,
        )

    assert results == [("payload", {"spent": True, "big_spender": False, "recent": True})]


def test_an_if_node_with_no_history_fails_with_the_notation_message():
    with pytest.raises(
        notation.EvaluationError, match=r"count\(events\) reads the profile's stored events"
    ):
        run_action("if", {"condition": "count(events) > 0"}, profile={"id": "p"})


def test_an_if_node_with_a_malformed_aggregate_is_refused_when_saved():
    with pytest.raises(ConfigError) as error:
        action_by_id("if")({"condition": 'first(events type "page-view") == "/"'})

    assert str(error.value) == (
        "condition: first() needs the path to read after it at column 1; write e.g. "
        'first(events type "page-view")@properties.url'
    )
