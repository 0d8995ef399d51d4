"""Event indexing (issue 23): an event type's indexed properties are copied, typed, into its
events' traits when they are stored; the events list filters on them, the condition builder
offers them, and a re-index applies a change to the stored events in the background."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.events.indexing import (
    ReindexUnderway,
    events_reindex,
    reindex_job_create,
    trait_cast,
)
from apps.events.models import Event, EventReindexJob, EventType, IndexedProperty
from apps.sources.services import event_source_create
from tests.events.factories import EventFactory
from tests.support.celery_worker import celery_worker, celery_worker_factory, wait_for  # noqa: F401
from tests.tracking.conftest import TrackClient, payload


@pytest.fixture
def purchase_type(db) -> EventType:
    return EventType.objects.create(type="purchase", name="Purchase")


def index(event_type: EventType, prop: str, trait: str, kind: str) -> IndexedProperty:
    indexed = IndexedProperty(event_type=event_type, property=prop, trait=trait, type=kind)
    indexed.full_clean()
    indexed.save()
    return indexed


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (19.99, "number", 19.99),
        ("19.99", "number", 19.99),
        ("42", "number", 42),
        ("42.0", "number", 42.0),
        ("n/a", "number", None),
        (True, "number", None),
        ("nan", "number", None),
        (7, "text", "7"),
        ("A-1", "text", "A-1"),
        (True, "text", "true"),
        ("yes", "boolean", True),
        ("Off", "boolean", False),
        ("maybe", "boolean", None),
        ("2024-05-01T10:00:00+02:00", "datetime", "2024-05-01T08:00:00+00:00"),
        ("2024-05-01", "datetime", "2024-05-01T00:00:00+00:00"),
        ("yesterday", "datetime", None),
        ({"a": 1}, "text", None),
        (None, "text", None),
    ],
)
def test_values_cast_to_the_trait_type(value, kind, expected):
    assert trait_cast(value, kind) == expected


@pytest.mark.django_db
def test_a_path_with_its_prefix_is_kept_without_it(purchase_type):
    assert index(purchase_type, "properties.order.total", "total", "number").property == (
        "order.total"
    )


@pytest.mark.django_db
def test_bad_paths_and_trait_names_are_refused(purchase_type):
    with pytest.raises(ValidationError) as caught:
        IndexedProperty(
            event_type=purchase_type, property="order..total", trait="order.total", type="text"
        ).full_clean()

    assert caught.value.message_dict == {
        "property": [
            "Write a dot path under the event's properties, e.g. order.total (Reference "
            "'event@properties.order..total' has an empty key at offset 17)."
        ],
        "trait": ["Use letters, digits, _ and - (starting with a letter or _), e.g. order_total."],
    }


@pytest.mark.django_db
def test_tracked_events_get_their_typed_traits(purchase_type):
    event_source_create(name="Web", source_id="web-source")
    index(purchase_type, "order.total", "order_total", "number")
    index(purchase_type, "coupon", "coupon", "text")
    index(purchase_type, "gift", "gift", "boolean")

    TrackClient().track(
        payload(
            session="s-1",
            events=[
                {
                    "type": "purchase",
                    "properties": {"order": {"total": "19.99"}, "coupon": 10, "gift": "n/a"},
                    "traits": {"channel": "app"},
                }
            ],
        )
    )

    event = Event.objects.get(type="purchase")
    assert event.traits == {"channel": "app", "order_total": 19.99, "coupon": "10"}
    assert event.properties == {"order": {"total": "19.99"}, "coupon": 10, "gift": "n/a"}


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="analyst"))
    return client


@pytest.mark.django_db
def test_the_events_list_filters_on_an_indexed_trait(staff_client, purchase_type):
    wanted = EventFactory(type="purchase", traits={"order_total": 19.99})
    EventFactory(type="purchase", traits={"order_total": 5})
    EventFactory(type="purchase", properties={"order_total": 19.99})

    response = staff_client.get("/admin/events/event/", {"q": "traits.order_total=19.99"})

    assert [event.pk for event in response.context["cl"].result_list] == [wanted.pk]


@pytest.mark.django_db
def test_the_condition_builder_offers_the_indexed_traits_first(staff_client, purchase_type):
    index(purchase_type, "order.total", "order_total", "number")
    index(purchase_type, "paid_at", "paid_at", "datetime")

    response = staff_client.get(
        "/admin/events/eventtype/condition-fields/",
        {"sources": "event", "event_type": "purchase"},
    )

    fields = response.json()["fields"]
    assert [(field["path"], field["type"]) for field in fields[:2]] == [
        ("event@traits.order_total", "number"),
        ("event@traits.paid_at", "date"),
    ]


@pytest.mark.django_db
def test_a_reindex_walks_the_stored_events_in_batches(purchase_type):
    now = timezone.now()
    # Five events, two sharing a time: the batches' keyset must not skip or repeat one.
    times = [now, now - timedelta(minutes=1), now - timedelta(minutes=1), now - timedelta(hours=1)]
    events = [
        EventFactory(type="purchase", time=moment, properties={"total": n})
        for n, moment in enumerate(times)
    ]
    events.append(EventFactory(type="purchase", properties={"total": "oops"}, traits={"k": 1}))
    other = EventFactory(type="page-view", properties={"total": 9})
    index(purchase_type, "total", "total", "number")
    job = reindex_job_create(event_type=purchase_type, requested_by="anna")

    finished = events_reindex(job.pk, batch=2)

    assert (finished.status, finished.total, finished.done) == ("done", 5, 5)
    traits = dict(Event.objects.values_list("pk", "traits"))
    assert [traits[event.pk] for event in events] == [
        {"total": 0},
        {"total": 1},
        {"total": 2},
        {"total": 3},
        {"k": 1},
    ]
    assert traits[other.pk] == {}
    # A job runs once.
    assert events_reindex(job.pk) is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_admin_starts_a_reindex_that_a_worker_runs(client, celery_worker):  # noqa: F811
    client.force_login(get_user_model().objects.create_superuser(username="dev"))
    purchase_type = EventType.objects.create(type="purchase", name="Purchase")
    for n in range(3):
        EventFactory(type="purchase", properties={"sku": f"S-{n}"})
    index(purchase_type, "sku", "sku", "text")

    response = client.post(f"/admin/events/eventtype/{purchase_type.pk}/reindex/")

    assert response.status_code == 302
    job = EventReindexJob.objects.get()
    wait_for(
        lambda: EventReindexJob.objects.get(pk=job.pk).status == "done",
        timeout=60,
        message="the worker finishes the re-index",
    )
    assert sorted(Event.objects.values_list("traits__sku", flat=True)) == ["S-0", "S-1", "S-2"]
    page = client.get(f"/admin/events/eventtype/{purchase_type.pk}/change/").content.decode()
    assert "Last re-index, asked by dev on" in page
    assert "done: 3 events" in page


@pytest.mark.django_db
def test_a_second_reindex_while_one_is_queued_is_refused(staff_client, purchase_type):
    reindex_job_create(event_type=purchase_type, requested_by="anna")

    response = staff_client.post(
        f"/admin/events/eventtype/{purchase_type.pk}/reindex/", follow=True
    )

    assert [str(message) for message in response.context["messages"]] == [
        "A re-index of this type is already under way; its progress is below."
    ]
    assert EventReindexJob.objects.count() == 1


@pytest.mark.django_db
def test_get_on_the_reindex_url_is_refused(staff_client, purchase_type):
    response = staff_client.get(f"/admin/events/eventtype/{purchase_type.pk}/reindex/")

    assert response.status_code == 405
    assert not EventReindexJob.objects.exists()


@pytest.mark.django_db
def test_a_reindex_started_between_the_check_and_the_insert_is_refused(purchase_type):
    first = reindex_job_create(event_type=purchase_type, requested_by="anna")
    # What a second request sees when the first inserts after its check: the constraint.
    with pytest.raises(IntegrityError), transaction.atomic():
        EventReindexJob.objects.create(
            event_type=purchase_type, requested_by="ben", requested_at=timezone.now()
        )
    with pytest.raises(ReindexUnderway) as refused:
        reindex_job_create(event_type=purchase_type, requested_by="ben")

    assert refused.value.job == first
    assert EventReindexJob.objects.count() == 1
