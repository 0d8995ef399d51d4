"""Whether a rule routes an event: a cached table, cleared by rule and workflow saves."""

import pytest

from apps.workflows import routing
from apps.workflows.models import Rule
from apps.workflows.selectors import workflow_caches_clear
from tests.sources.factories import EventSourceFactory
from tests.workflows.factories import RuleFactory, WorkflowFactory

pytestmark = pytest.mark.django_db


def test_routed_by_source_or_by_any_source():
    web, shop = EventSourceFactory(), EventSourceFactory()
    RuleFactory(event_type="purchase", source=web)
    RuleFactory(event_type="page-view", source=None)
    RuleFactory(event_type="signup", source=web, enabled=False)
    RuleFactory(event_type="login", workflow=WorkflowFactory(enabled=False))

    assert routing.event_is_routed(source_id=web.id, event_type="purchase") is True
    assert routing.event_is_routed(source_id=shop.id, event_type="purchase") is False
    assert routing.event_is_routed(source_id=shop.id, event_type="page-view") is True
    assert routing.event_is_routed(source_id=web.id, event_type="signup") is False
    assert routing.event_is_routed(source_id=web.id, event_type="login") is False


def test_routing_reads_a_cached_table_with_no_query_per_event(settings, django_assert_num_queries):
    settings.CDP_WORKFLOW_CACHE_SECONDS = 60
    source = EventSourceFactory()
    rule = RuleFactory(event_type="purchase", source=source)
    routing.event_is_routed(source_id=source.id, event_type="purchase")

    with django_assert_num_queries(0):
        for _ in range(2000):
            routing.event_is_routed(source_id=source.id, event_type="purchase")

    # A change this process did not see (another process, a bulk update) waits for the cache.
    Rule.objects.filter(pk=rule.pk).update(enabled=False)
    assert routing.event_is_routed(source_id=source.id, event_type="purchase") is True
    workflow_caches_clear()
    assert routing.event_is_routed(source_id=source.id, event_type="purchase") is False


def test_saving_a_rule_clears_this_process_cache(settings):
    settings.CDP_WORKFLOW_CACHE_SECONDS = 60
    source = EventSourceFactory()
    assert routing.event_is_routed(source_id=source.id, event_type="purchase") is False

    RuleFactory(event_type="purchase", source=source)

    assert routing.event_is_routed(source_id=source.id, event_type="purchase") is True


def test_the_cache_expires(settings):
    settings.CDP_WORKFLOW_CACHE_SECONDS = 0
    source = EventSourceFactory()
    rule = RuleFactory(event_type="purchase", source=source)
    assert routing.event_is_routed(source_id=source.id, event_type="purchase") is True

    Rule.objects.filter(pk=rule.pk).update(enabled=False)

    assert routing.event_is_routed(source_id=source.id, event_type="purchase") is False
