""" "Does this event need a worker?" has one answer wherever an event is stored.

Ingest says an event must be processed (stored `collected`) when a rule routes it, or its type
maps properties onto the profile, or an identification point listens to its type. The same
must hold for an event released from quarantine (re-validation) and for an event injected by
a workflow node: else it is stored `processed`, and its mapping or identification never runs.

The worker side is called in-process (no Celery): on-commit hand-offs do not run in these
tests, and `profile_events_process` takes the profile's `collected` events as a worker would.
"""

import pytest

from apps.events.models import Event, EventType, EventTypeMapping
from apps.events.registry import event_type_registry
from apps.profiles.models import MergeRecord, Profile
from apps.workflows.models import Rule

# isort: split
# The services under test (the refactor may move them): imported here only.
from apps.events.services import event_type_save
from apps.tracking.processing import profile_events_process
from apps.tracking.revalidate import events_revalidate

# isort: split
from tests.events.factories import EventFactory as StoredEventFactory
from tests.profiles.factories import IdentificationPointFactory, ProfileFactory, SessionFactory
from tests.workflows.factories import EventFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

# Types of our own: predefined ones (sign-in, identification...) come with mappings.
LOGIN = "crm-login"
ORDER_PAID = "order-paid"
STRICT = {
    "type": "object",
    "required": ["email", "remember"],
    "properties": {"email": {"type": "string"}, "remember": {"type": "boolean"}},
}
LENIENT = {
    "type": "object",
    "required": ["email"],
    "properties": {"email": {"type": "string"}, "remember": {"type": ["boolean", "string"]}},
}
EMAIL_POINT = [{"profile": "data.contact.email.main", "event": "properties.email"}]


def email_holder(profile_id: str, email: str) -> Profile:
    return ProfileFactory(id=profile_id, data={"contact": {"email": {"main": email}}})


def assert_nothing_else_needs_processing(event_type: str) -> None:
    """The event type has no rule and no mapping: only what the test adds makes it count."""
    assert not Rule.objects.filter(event_type=event_type).exists()
    assert not EventTypeMapping.objects.filter(event_type__type=event_type).exists()


def injector(event_type: str, properties: dict) -> None:
    """A workflow routed by `checkout` events that injects an event of `event_type`."""
    workflow = WorkflowFactory(
        graph=linear_graph(("inject_event", {"type": event_type, "properties": properties}))
    )
    RuleFactory(workflow=workflow, event_type="checkout")


# --- (a) re-validation ----------------------------------------------------------------------


def test_a_released_event_whose_type_only_has_an_identification_point_identifies_its_profile():
    login = event_type_save(event_type=EventType(type=LOGIN, name="CRM login", json_schema=STRICT))
    IdentificationPointFactory(name="E-mail", event_type=LOGIN, fields=EMAIL_POINT)
    email_holder("known", "jo@x.io")
    current = ProfileFactory(id="current")
    session = SessionFactory(id="phone-session", profile=current)
    quarantined = StoredEventFactory(
        id="login-1",
        type=LOGIN,
        profile=current,
        session=session,
        properties={"email": "Jo@X.io", "remember": "yes"},
        status=Event.Status.INVALID,
    )
    assert_nothing_else_needs_processing(LOGIN)

    login.json_schema = LENIENT
    event_type_save(event_type=login)
    assert events_revalidate(event_ids=["login-1"]) == (1, 0)

    quarantined.refresh_from_db()
    assert (quarantined.status, quarantined.status_message) == (Event.Status.COLLECTED, "")

    profile_events_process(profile_id="current")

    assert list(Profile.objects.values_list("pk", flat=True)) == ["known"]
    assert Profile.objects.get().ids == ["current"]
    quarantined.refresh_from_db()
    assert (quarantined.status, quarantined.profile_id) == (Event.Status.PROCESSED, "known")
    record = MergeRecord.objects.get()
    assert (record.survivor_id, record.merged_ids) == ("known", ["current"])
    assert record.reason == "Identification point 'E-mail': data.contact.email.main matched"


def test_a_released_event_of_a_first_identification_writes_the_identifier_on_its_profile():
    login = event_type_save(event_type=EventType(type=LOGIN, name="CRM login", json_schema=STRICT))
    IdentificationPointFactory(event_type=LOGIN, fields=EMAIL_POINT)
    current = ProfileFactory(id="current")
    StoredEventFactory(
        id="login-1",
        type=LOGIN,
        profile=current,
        properties={"email": "jo@x.io", "remember": "yes"},
        status=Event.Status.INVALID,
    )
    assert_nothing_else_needs_processing(LOGIN)

    login.json_schema = LENIENT
    event_type_save(event_type=login)
    assert events_revalidate(event_ids=["login-1"]) == (1, 0)

    assert Event.objects.get(pk="login-1").status == Event.Status.COLLECTED

    profile_events_process(profile_id="current")

    current.refresh_from_db()
    assert current.data["contact"]["email"] == {"main": "jo@x.io"}
    assert "data.contact.email.main" in current.metadata["fields"]
    assert Event.objects.get(pk="login-1").status == Event.Status.PROCESSED


# --- (b), (c) events injected by a workflow --------------------------------------------------


def test_an_injected_event_whose_type_maps_into_the_profile_is_processed_and_mapped():
    kind = EventType.objects.create(type=ORDER_PAID, name="Order paid")
    EventTypeMapping.objects.create(
        event_type=kind, position=1, profile_path="traits.last_order", event_path="properties.order"
    )
    EventTypeMapping.objects.create(
        event_type=kind,
        position=2,
        profile_path="stats.spent",
        event_path="properties.total",
        operation=EventTypeMapping.Operation.ADD,
    )
    event_type_registry.cache_clear()
    injector("Order Paid", {"order": "event@properties.order", "total": "event@properties.total"})
    assert not Rule.objects.filter(event_type=ORDER_PAID).exists()
    checkout = EventFactory(type="checkout", properties={"order": "A-7", "total": 12.5})
    profile_id = checkout.profile_id

    profile_events_process(profile_id=profile_id)

    injected = Event.objects.get(type=ORDER_PAID)
    assert (injected.profile_id, injected.properties) == (
        profile_id,
        {"order": "A-7", "total": 12.5},
    )
    assert injected.status == Event.Status.COLLECTED

    profile_events_process(profile_id=profile_id)

    injected.refresh_from_db()
    assert injected.status == Event.Status.PROCESSED
    profile = Profile.objects.get(pk=profile_id)
    assert profile.traits == {"last_order": "A-7"}
    assert profile.stats == {"spent": 12.5}
    assert {"traits.last_order", "stats.spent"} <= set(profile.metadata["fields"])


def test_an_injected_event_with_an_identification_point_merges_its_profile_into_the_holder():
    IdentificationPointFactory(name="E-mail", event_type=LOGIN, fields=EMAIL_POINT)
    injector("CRM login", {"email": "event@properties.email"})
    assert_nothing_else_needs_processing(LOGIN)
    email_holder("known", "jo@x.io")
    checkout = EventFactory(
        type="checkout", profile=ProfileFactory(id="current"), properties={"email": "jo@x.io"}
    )

    profile_events_process(profile_id="current")

    injected = Event.objects.get(type=LOGIN)
    assert (injected.profile_id, injected.properties) == ("current", {"email": "jo@x.io"})
    assert injected.status == Event.Status.COLLECTED

    profile_events_process(profile_id="current")

    assert list(Profile.objects.values_list("pk", flat=True)) == ["known"]
    assert Profile.objects.get().ids == ["current"]
    assert dict(Event.objects.values_list("pk", "profile_id")) == {
        checkout.pk: "known",
        injected.pk: "known",
    }
    assert Event.objects.get(pk=injected.pk).status == Event.Status.PROCESSED
    record = MergeRecord.objects.get()
    assert (record.survivor_id, record.merged_ids) == ("known", ["current"])
