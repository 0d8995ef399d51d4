"""Event reshaping at ingestion (issue 23): the first matching reshaping of an event's type
rewrites its properties and context, and completes the session's context, before validation
and mapping."""

import pytest

from apps.events.models import Event, EventReshaping, EventType, EventTypeMapping
from apps.profiles.models import Profile, Session
from apps.sources.services import event_source_create
from apps.tracking.processing import profile_events_process
from tests.tracking.conftest import payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchase_type(db) -> EventType:
    return EventType.objects.create(type="purchase", name="Purchase")


def reshaping(event_type: EventType, **fields) -> EventReshaping:
    fields.setdefault("name", "Flat to nested")
    reshaping = EventReshaping(event_type=event_type, **fields)
    reshaping.full_clean()
    reshaping.save()
    return reshaping


def stored(event_type: str) -> Event:
    return Event.objects.get(type=event_type)


def purchase(**properties) -> dict:
    return {"type": "purchase", "properties": properties, "context": {"page": {"url": "/cart"}}}


def test_properties_and_context_are_rewritten_by_the_template(api, rest_source, purchase_type):
    reshaping(
        purchase_type,
        properties={"product": {"id": "event@properties.sku", "price": "event@properties.price"}},
        context={"url": "event@context.page.url", "campaign": "session@context.utm.campaign"},
    )

    response = api.track(
        payload(
            session="s-1",
            events=[purchase(sku="A-1", price=12.5, junk="x")],
            context={"utm": {"campaign": "winter"}},
        )
    )

    assert response.status_code == 200
    assert response.json()["warnings"] == []
    event = stored("purchase")
    assert event.properties == {"product": {"id": "A-1", "price": 12.5}}
    assert event.context == {"url": "/cart", "campaign": "winter"}


def test_a_missing_reference_becomes_null(api, rest_source, purchase_type):
    reshaping(purchase_type, properties={"id": "event@properties.sku", "note": "literal"})

    api.track(payload(session="s-1", events=[purchase(price=3)]))

    assert stored("purchase").properties == {"id": None, "note": "literal"}


def test_the_session_context_gets_the_session_template(api, rest_source, purchase_type):
    reshaping(purchase_type, session={"shop": {"id": "event@properties.shop"}})

    api.track(payload(session="s-1", events=[purchase(shop="berlin")], context={"lang": "de"}))

    session = Session.objects.get(pk="s-1")
    assert session.context["shop"] == {"id": "berlin"}
    assert session.context["lang"] == "de"
    # Properties and context had no template: as sent.
    assert stored("purchase").properties == {"shop": "berlin"}


def test_validation_and_mapping_see_the_reshaped_event(api, rest_source, purchase_type):
    purchase_type.json_schema = {
        "type": "object",
        "required": ["order"],
        "properties": {"order": {"type": "object", "required": ["total"]}},
    }
    purchase_type.save()
    EventTypeMapping.objects.create(
        event_type=purchase_type, profile_path="traits.last_order", event_path="properties.order"
    )
    reshaping(purchase_type, properties={"order": {"total": "event@properties.amount"}})

    response = api.track(payload(session="s-1", events=[purchase(amount=99)]))
    profile_id = response.json()["profile"]["id"]
    profile_events_process(profile_id=profile_id)

    event = stored("purchase")
    assert (event.status, event.properties) == ("processed", {"order": {"total": 99}})
    profile = Profile.objects.get(pk=profile_id)
    assert profile.traits["last_order"] == {"total": 99}


def test_a_condition_that_does_not_hold_leaves_the_event_as_sent(api, rest_source, purchase_type):
    reshaping(purchase_type, condition="event@properties.sku EXISTS", properties={"x": "y"})

    api.track(payload(session="s-1", events=[purchase(price=1)]))

    assert stored("purchase").properties == {"price": 1}


def test_the_first_matching_reshaping_by_position_applies(api, rest_source, purchase_type):
    reshaping(purchase_type, name="second", position=2, properties={"by": "second"})
    reshaping(purchase_type, name="first", position=1, properties={"by": "first"})
    reshaping(purchase_type, name="off", position=0, enabled=False, properties={"by": "off"})

    api.track(payload(session="s-1", events=[purchase()]))

    assert stored("purchase").properties == {"by": "first"}


def test_a_reshaping_for_another_source_is_skipped(api, rest_source, purchase_type):
    other = event_source_create(name="Shop", source_id="shop-source")
    reshaping(purchase_type, name="shop only", source=other, properties={"from": "shop"})
    reshaping(purchase_type, name="any", position=5, properties={"from": "any"})

    api.track(payload(session="s-1", events=[purchase()]))
    api.track(payload(source_id="shop-source", session="s-2", events=[purchase()]))

    by_source = dict(Event.objects.filter(type="purchase").values_list("source_id", "properties"))
    assert by_source == {"web-source": {"from": "any"}, "shop-source": {"from": "shop"}}


def test_other_types_are_not_touched(api, rest_source, purchase_type):
    reshaping(purchase_type, properties={"x": "y"})

    api.track(payload(session="s-1", events=[{"type": "page-view", "properties": {"a": 1}}]))

    assert stored("page-view").properties == {"a": 1}


def test_a_condition_that_fails_on_the_event_stores_it_as_sent_with_a_warning(
    api, rest_source, purchase_type
):
    reshaping(purchase_type, condition="event@properties.price > 10", properties={"big": True})

    response = api.track(payload(session="s-1", events=[purchase(price="a lot")]))

    assert response.status_code == 200
    assert response.json()["warnings"] == [
        "Event reshaping 'Flat to nested' could not run on a purchase event (Cannot compare "
        "str 'a lot' > int 10); the event was stored as sent."
    ]
    assert stored("purchase").properties == {"price": "a lot"}
