"""Issue 23: indexed properties in the management API, under their event type (CRUD with the
admin's validation, nothing stored on an error), and the re-index of the stored events: 202
with the job, its progress at its own route, run by a real worker."""

import pytest
from django.utils import timezone

from apps.api.models import ApiKey
from apps.events.indexing import reindex_job_create
from apps.events.models import Event, EventReindexJob, EventType, IndexedProperty
from apps.events.registry import event_traits
from tests.events.factories import EventFactory
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401  (a fixture)

URL = "/api/v1/event-types/purchase/indexed-properties/"


@pytest.fixture
def purchase_type(db) -> EventType:
    return EventType.objects.create(type="purchase", name="Purchase")


@pytest.mark.django_db
def test_create_then_read_list_change_and_delete_an_indexed_property(client_all, purchase_type):
    created = client_all.post(
        URL, {"property": "properties.order.total", "trait": "total", "type": "number"},
        format="json",
    )  # fmt: skip

    assert created.status_code == 201, created.content
    indexed_id = IndexedProperty.objects.get().pk
    # Written with its properties. prefix, kept without it (as the admin keeps it).
    expected = {"id": indexed_id, "property": "order.total", "trait": "total", "type": "number"}
    assert created.json() == expected
    assert client_all.get(f"{URL}{indexed_id}/").json() == expected
    assert client_all.get(URL).json() == {"next": None, "previous": None, "results": [expected]}
    # Events stored from now on get the trait (the registry was told).
    assert event_traits(
        event_type="purchase", properties={"order": {"total": "19.5"}}, traits={}
    ) == {"total": 19.5}

    patched = client_all.patch(f"{URL}{indexed_id}/", {"type": "text"}, format="json")
    assert patched.json() == {**expected, "type": "text"}
    replaced = client_all.put(
        f"{URL}{indexed_id}/", {"property": "sku", "trait": "sku"}, format="json"
    )
    assert replaced.json() == {"id": indexed_id, "property": "sku", "trait": "sku", "type": "text"}

    assert client_all.delete(f"{URL}{indexed_id}/").status_code == 204
    assert not IndexedProperty.objects.exists()
    assert event_traits(event_type="purchase", properties={"sku": "A"}, traits={}) == {}


@pytest.mark.django_db
def test_the_list_holds_only_the_types_own_by_trait(client_all, purchase_type):
    refund = EventType.objects.create(type="refund", name="Refund")
    for event_type, trait in ((purchase_type, "sku"), (purchase_type, "amount"), (refund, "x")):
        IndexedProperty.objects.create(event_type=event_type, property=trait, trait=trait)

    traits = [row["trait"] for row in client_all.get(URL).json()["results"]]

    assert traits == ["amount", "sku"]
    refunds = IndexedProperty.objects.get(trait="x")
    assert client_all.patch(f"{URL}{refunds.pk}/", {"trait": "y"}, format="json").status_code == 404
    assert IndexedProperty.objects.get(pk=refunds.pk).trait == "x"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"property": "order..total"},
            [
                {
                    "loc": ["body", "property"],
                    "msg": "Write a dot path under the event's properties, e.g. order.total "
                    "(Reference 'event@properties.order..total' has an empty key at offset 17).",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"trait": "order total"},
            [
                {
                    "loc": ["body", "trait"],
                    "msg": "Use letters, digits, _ and - (starting with a letter or _), e.g. "
                    "order_total.",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"trait": "sku"},
            [
                {
                    "loc": ["body", "trait"],
                    "msg": "The trait 'sku' is already indexed on this type (from "
                    "properties.sku): pick another name or change that one.",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"type": "money"},
            [
                {
                    "loc": ["body", "type"],
                    "msg": '"money" is not a valid choice.',
                    "type": "invalid_choice",
                }
            ],
        ),
        (
            {"property": None},
            [{"loc": ["body", "property"], "msg": "This field may not be null.", "type": "null"}],
        ),
    ],
)
def test_an_indexed_property_that_does_not_validate_is_refused(
    client_all, purchase_type, fields, expected
):
    IndexedProperty.objects.create(event_type=purchase_type, property="sku", trait="sku")

    response = client_all.post(
        URL, {"property": "order.total", "trait": "total", **fields}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": expected}
    assert list(IndexedProperty.objects.values_list("trait", flat=True)) == ["sku"]


@pytest.mark.django_db
def test_renaming_onto_another_trait_is_refused_and_keeping_its_own_is_not(
    client_all, purchase_type
):
    sku = IndexedProperty.objects.create(event_type=purchase_type, property="sku", trait="sku")
    IndexedProperty.objects.create(event_type=purchase_type, property="total", trait="total")

    assert client_all.patch(f"{URL}{sku.pk}/", {"trait": "total"}, format="json").status_code == 400
    assert client_all.patch(f"{URL}{sku.pk}/", {"trait": "sku"}, format="json").status_code == 200
    assert sorted(IndexedProperty.objects.values_list("trait", flat=True)) == ["sku", "total"]


@pytest.mark.django_db
def test_an_unknown_event_type_is_404(client_all):
    for method, url in (
        ("get", "/api/v1/event-types/nope/indexed-properties/"),
        ("post", "/api/v1/event-types/nope/indexed-properties/"),
        ("post", "/api/v1/event-types/nope/indexed-properties/reindex/"),
        ("get", "/api/v1/event-types/nope/reindex-jobs/"),
        ("get", "/api/v1/event-types/nope/reindex-jobs/x/"),
    ):
        response = getattr(client_all, method)(url, {}, format="json")
        assert response.status_code == 404, url
        assert response.json() == {
            "detail": "There is no event type 'nope' (the list is at /api/v1/event-types/)."
        }
    assert not EventReindexJob.objects.exists()


@pytest.mark.django_db
def test_reading_needs_events_read_and_writing_or_reindexing_events_write(
    make_client, purchase_type
):
    reader = make_client("events:read")
    assert reader.get(URL).status_code == 200
    assert reader.get("/api/v1/event-types/purchase/reindex-jobs/").status_code == 200
    for url, body in ((URL, {"property": "sku", "trait": "sku"}), (f"{URL}reindex/", {})):
        refused = reader.post(url, body, format="json")
        assert refused.status_code == 403
        assert refused.json() == {
            "detail": "This API key lacks the scope 'events:write' (it has: events:read)."
        }
    assert not IndexedProperty.objects.exists()
    assert not EventReindexJob.objects.exists()
    assert make_client("reports:write").get(URL).status_code == 403


@pytest.mark.django_db
def test_a_reindex_answers_202_with_the_job_and_its_location(make_client, purchase_type):
    EventFactory(type="purchase")
    EventFactory(type="purchase")
    EventFactory(type="page-view")
    client = make_client("events:write")
    key = ApiKey.objects.get()

    response = client.post(f"{URL}reindex/")

    assert response.status_code == 202, response.content
    job = EventReindexJob.objects.get()
    assert response["Location"] == f"/api/v1/event-types/purchase/reindex-jobs/{job.pk}/"
    body = response.json()
    assert body == {
        "id": job.pk,
        "status": "queued",
        "total": 2,
        "done": 0,
        "percent": 0,
        "requested_by": f"API key Test ({key.prefix})",
        "requested_at": body["requested_at"],
        "finished_at": None,
        "error": "",
    }
    assert body["requested_at"] == job.requested_at.isoformat().replace("+00:00", "Z")
    assert client.get(response["Location"]).json() == body
    assert client.get("/api/v1/event-types/purchase/reindex-jobs/").json()["results"] == [body]


@pytest.mark.django_db
def test_a_second_reindex_while_one_is_under_way_is_409(client_all, purchase_type):
    running = reindex_job_create(event_type=purchase_type, requested_by="anna")
    EventReindexJob.objects.filter(pk=running.pk).update(status="running")

    response = client_all.post(f"{URL}reindex/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"A re-index of the purchase events is already under way (job {running.pk}, "
        "running); follow its progress, then start another if needed."
    }
    assert EventReindexJob.objects.count() == 1
    EventReindexJob.objects.filter(pk=running.pk).update(status="done")
    assert client_all.post(f"{URL}reindex/").status_code == 202


@pytest.mark.django_db
def test_a_job_of_another_type_is_not_found_under_this_one(client_all, purchase_type):
    refund = EventType.objects.create(type="refund", name="Refund")
    job = reindex_job_create(event_type=refund, requested_by="anna")

    assert client_all.get(f"/api/v1/event-types/purchase/reindex-jobs/{job.pk}/").status_code == 404
    assert client_all.get(f"/api/v1/event-types/refund/reindex-jobs/{job.pk}/").status_code == 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_reindex_started_through_the_api(make_client, celery_worker):  # noqa: F811
    client = make_client("events:write")
    EventType.objects.create(type="purchase", name="Purchase")
    events = [
        EventFactory(type="purchase", properties={"order": {"total": total}})
        for total in ("10", "20.5", "n/a")
    ]
    other = EventFactory(type="page-view", properties={"order": {"total": "7"}})
    created = client.post(
        URL, {"property": "order.total", "trait": "total", "type": "number"}, format="json"
    )
    assert created.status_code == 201

    started = client.post(f"{URL}reindex/")

    assert started.status_code == 202
    location = started["Location"]
    wait_for(
        lambda: client.get(location).json()["status"] == "done",
        timeout=60,
        message="the worker finishes the re-index",
    )
    job = client.get(location).json()
    assert (job["total"], job["done"], job["percent"], job["error"]) == (3, 3, 100, "")
    assert job["finished_at"] is not None
    assert EventReindexJob.objects.get().finished_at <= timezone.now()
    traits = dict(Event.objects.values_list("pk", "traits"))
    assert [traits[event.pk] for event in events] == [{"total": 10}, {"total": 20.5}, {}]
    assert traits[other.pk] == {}
