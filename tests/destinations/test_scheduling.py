"""The debounce (profile destinations) and the per-event scheduling, with controlled clocks."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from apps.destinations.models import Delivery, Destination
from apps.destinations.senders import SendResult
from apps.destinations.services import (
    attempt_result_record,
    delivery_claim_next,
    event_deliveries_schedule,
    profile_deliveries_schedule,
)
from apps.profiles.services.changes import profile_changed
from tests.destinations.factories import DestinationFactory, EventFactory, ProfileFactory
from tests.sources.factories import EventSourceFactory

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def dispatch_without_network(destination: Destination, now: datetime) -> list[datetime]:
    """What the dispatcher does at `now`, with a remote that accepts everything: claim every
    due delivery and record a successful attempt. Returns the send times."""
    sent = []
    while True:
        found, claimed = delivery_claim_next(destination_id=destination.pk, now=now)
        if not found:
            return sent
        attempt_result_record(claimed, result=SendResult(ok=True), duration_ms=1, now=now)
        sent.append(now)


@pytest.mark.django_db
def test_first_change_is_due_after_the_delay_and_capped_by_max_delay():
    destination = DestinationFactory(delay_seconds=2, max_delay_seconds=6)
    profile = ProfileFactory()

    profile_deliveries_schedule(profile_id=profile.pk, changed_fields=["traits.plan"], now=at(0))

    delivery = Delivery.objects.get()
    assert delivery.destination_id == destination.pk
    assert delivery.profile_id == profile.pk
    assert delivery.status == "pending"
    assert delivery.first_change_at == at(0)
    assert delivery.due_at == at(2)
    assert delivery.latest_due_at == at(6)
    assert delivery.changed_fields == ["traits.plan"]


@pytest.mark.django_db
def test_each_change_pushes_due_at_to_now_plus_delay_but_never_past_first_change_plus_max():
    DestinationFactory(delay_seconds=2, max_delay_seconds=6)
    profile = ProfileFactory()
    expected_due = {0: 2, 1: 3, 2: 4, 3: 5, 4: 6, 5: 6}

    for second, due in expected_due.items():
        profile_deliveries_schedule(profile_id=profile.pk, changed_fields=[], now=at(second))
        assert Delivery.objects.get().due_at == at(due), f"after the change at t+{second}s"

    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_tracardi_example_updates_every_second_for_ten_seconds_give_one_send_20s_after_last():
    destination = DestinationFactory(delay_seconds=20, max_delay_seconds=60)
    profile = ProfileFactory()
    sends = []

    for second in range(0, 90):
        sends += dispatch_without_network(destination, at(second))
        if second < 10:
            profile_deliveries_schedule(
                profile_id=profile.pk, changed_fields=["traits.visits"], now=at(second)
            )

    assert sends == [at(9 + 20)]
    delivery = Delivery.objects.get()
    assert delivery.status == "sent"
    assert delivery.attempts == 1


@pytest.mark.django_db
def test_changes_that_never_stop_are_sent_every_max_delay():
    destination = DestinationFactory(delay_seconds=2, max_delay_seconds=6)
    profile = ProfileFactory()
    sends = []

    for second in range(0, 20):
        sends += dispatch_without_network(destination, at(second))
        if second < 10:
            profile_deliveries_schedule(profile_id=profile.pk, changed_fields=[], now=at(second))

    # 0..5 fold into one sync due at the cap (t+6); the change at t+6 comes after that claim and
    # opens the next window: first change 6, last change 9 -> due 9 + 2 = 11 (cap 12).
    assert sends == [at(6), at(11)]
    assert list(Delivery.objects.order_by("due_at").values_list("first_change_at", "status")) == [
        (at(0), "sent"),
        (at(6), "sent"),
    ]


@pytest.mark.django_db
def test_changed_fields_accumulate_in_order_without_duplicates():
    DestinationFactory(delay_seconds=5, max_delay_seconds=50)
    profile = ProfileFactory()

    profile_deliveries_schedule(
        profile_id=profile.pk, changed_fields=["traits.plan", "stats.visits"], now=at(0)
    )
    profile_deliveries_schedule(
        profile_id=profile.pk, changed_fields=["data.pii.firstname", "traits.plan"], now=at(1)
    )

    assert Delivery.objects.get().changed_fields == [
        "traits.plan",
        "stats.visits",
        "data.pii.firstname",
    ]


@pytest.mark.django_db
def test_a_change_during_a_send_opens_a_new_pending_row():
    destination = DestinationFactory(delay_seconds=1, max_delay_seconds=10)
    profile = ProfileFactory()
    profile_deliveries_schedule(profile_id=profile.pk, changed_fields=["a"], now=at(0))
    found, claimed = delivery_claim_next(destination_id=destination.pk, now=at(1))
    assert found and claimed is not None

    profile_deliveries_schedule(profile_id=profile.pk, changed_fields=["b"], now=at(1.5))

    rows = list(Delivery.objects.order_by("created").values_list("status", "changed_fields"))
    assert rows == [("sending", ["a"]), ("pending", ["b"])]


@pytest.mark.django_db
def test_a_change_never_brings_a_retry_forward():
    DestinationFactory(delay_seconds=2, max_delay_seconds=600)
    profile = ProfileFactory()
    profile_deliveries_schedule(profile_id=profile.pk, changed_fields=[], now=at(0))
    Delivery.objects.update(attempts=1, due_at=at(100))  # waiting on a backoff

    profile_deliveries_schedule(profile_id=profile.pk, changed_fields=["x"], now=at(10))

    delivery = Delivery.objects.get()
    assert delivery.due_at == at(100)
    assert delivery.changed_fields == ["x"]


@pytest.mark.django_db
def test_one_pending_row_per_destination_and_only_enabled_profile_destinations():
    first = DestinationFactory()
    second = DestinationFactory()
    DestinationFactory(enabled=False)
    DestinationFactory(kind=Destination.Kind.EVENT)
    profile = ProfileFactory()

    for second_ in range(3):
        profile_deliveries_schedule(profile_id=profile.pk, changed_fields=[], now=at(second_))

    assert sorted(Delivery.objects.values_list("destination_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )


@pytest.mark.django_db
def test_unknown_profile_schedules_nothing():
    DestinationFactory()

    assert profile_deliveries_schedule(profile_id="gone", changed_fields=[], now=at(0)) == 0
    assert Delivery.objects.count() == 0


@pytest.mark.django_db
def test_profile_changed_hook_schedules_the_sync():
    DestinationFactory(delay_seconds=20, max_delay_seconds=60)
    profile = ProfileFactory()

    profile_changed(profile_id=profile.pk, changed_fields=["traits.plan"])

    delivery = Delivery.objects.get()
    assert delivery.changed_fields == ["traits.plan"]
    assert delivery.due_at - delivery.first_change_at == timedelta(seconds=20)


@pytest.mark.django_db
def test_scheduling_costs_no_query_without_profile_destinations(django_assert_num_queries):
    profile = ProfileFactory()
    with django_assert_num_queries(1):  # fills the per-process cache
        profile_deliveries_schedule(profile_id=profile.pk, changed_fields=["traits.plan"])

    with django_assert_num_queries(0):
        for _ in range(5):
            profile_deliveries_schedule(profile_id=profile.pk, changed_fields=["traits.plan"])


@pytest.mark.django_db
def test_event_deliveries_one_per_matching_event_and_destination():
    source = EventSourceFactory()
    other_source = EventSourceFactory()
    purchases = DestinationFactory(kind="event", event_type="purchase", delay_seconds=3)
    any_type_from_source = DestinationFactory(kind="event", event_type="", source=source)
    DestinationFactory(kind="event", event_type="purchase", source=other_source)
    DestinationFactory(kind="event", event_type="purchase", enabled=False)
    purchase = EventFactory(type="purchase", source=source)
    page_view = EventFactory(type="page-view", source=source)

    created = event_deliveries_schedule(
        event_ids=[purchase.pk, page_view.pk],
        source_id=source.pk,
        event_types={"purchase", "page-view"},
        now=at(0),
    )

    assert created == 3
    rows = set(Delivery.objects.values_list("destination_id", "event_id", "profile_id", "due_at"))
    assert rows == {
        (purchases.pk, purchase.pk, purchase.profile_id, at(3)),
        (any_type_from_source.pk, purchase.pk, purchase.profile_id, at(0)),
        (any_type_from_source.pk, page_view.pk, page_view.profile_id, at(0)),
    }


@pytest.mark.django_db
def test_event_deliveries_are_not_duplicated_when_the_hand_off_repeats():
    source = EventSourceFactory()
    DestinationFactory(kind="event", event_type="purchase")
    event = EventFactory(type="purchase", source=source)

    for _ in range(2):
        event_deliveries_schedule(
            event_ids=[event.pk], source_id=source.pk, event_types={"purchase"}
        )

    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_event_scheduling_costs_no_query_when_nothing_matches(django_assert_num_queries):
    source = EventSourceFactory()
    DestinationFactory(kind="event", event_type="purchase")
    event = EventFactory(type="page-view", source=source)
    event_deliveries_schedule(event_ids=[event.pk], source_id=source.pk, event_types={"x"})

    with django_assert_num_queries(0):
        for _ in range(5):
            event_deliveries_schedule(
                event_ids=[event.pk], source_id=source.pk, event_types={"page-view"}
            )

    assert Delivery.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_event_deliveries_commit_and_roll_back_with_the_writers_transaction():
    source = EventSourceFactory()
    DestinationFactory(kind="event", event_type="purchase")

    with transaction.atomic():
        kept = EventFactory(type="purchase", source=source)
        event_deliveries_schedule(
            event_ids=[kept.pk], event_types={"purchase"}, source_id=source.pk
        )
        assert list(Delivery.objects.values_list("event_id", flat=True)) == [kept.pk]

    with pytest.raises(RuntimeError), transaction.atomic():
        lost = EventFactory(type="purchase", source=source)
        event_deliveries_schedule(
            event_ids=[lost.pk], event_types={"purchase"}, source_id=source.pk
        )
        raise RuntimeError("the writer fails after scheduling")

    assert list(Delivery.objects.values_list("event_id", flat=True)) == [kept.pk]
