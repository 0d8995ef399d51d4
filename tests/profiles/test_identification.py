import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.events.models import Event
from apps.profiles.models import IdentificationPoint, MergeRecord, Profile, Session
from apps.profiles.services.identification import (
    event_type_identifies,
    identification_apply,
    identification_point_save,
)
from tests.events.factories import EventFactory
from tests.profiles.factories import (
    IdentificationPointFactory,
    ProfileFactory,
    SessionFactory,
)
from tests.sources.factories import EventSourceFactory


def identification(email: str, *, source_id: str = "web", event_type: str = "identification"):
    return {"type": event_type, "source": {"id": source_id}, "properties": {"email": email}}


def with_email(email: str, **fields) -> Profile:
    return ProfileFactory(data={"contact": {"email": {"main": email}}}, **fields)


@pytest.mark.django_db
def test_without_points_nothing_is_queried(django_assert_num_queries):
    profile = ProfileFactory()
    identification_apply(event=identification("a@x.io"), profile_id=profile.pk)  # loads cache

    with django_assert_num_queries(0):
        assert identification_apply(event=identification("a@x.io"), profile_id=profile.pk) == (
            profile.pk
        )


@pytest.mark.django_db
def test_event_types_with_points_are_known_without_a_query(django_assert_num_queries):
    IdentificationPointFactory(event_type="sign-in")
    IdentificationPointFactory(event_type="sign-up", enabled=False)
    event_type_identifies("sign-in")  # loads the cache

    with django_assert_num_queries(0):
        assert [event_type_identifies(name) for name in ("sign-in", "sign-up", "page-view")] == [
            True,
            False,
            False,
        ]


@pytest.mark.django_db
def test_a_known_identifier_merges_the_current_profile_into_its_holder():
    point = IdentificationPointFactory(name="E-mail")
    with_email("jo@x.io", id="known")
    current = ProfileFactory(id="current")
    session = SessionFactory(id="phone-session", profile=current)
    event = EventFactory(id="ident", profile=current, session=session, type="identification")

    survivor_id = identification_apply(event=identification("Jo@X.io"), profile_id="current")

    assert survivor_id == "known"
    assert list(Profile.objects.values_list("pk", flat=True)) == ["known"]
    assert Profile.objects.get().ids == ["current"]
    assert Session.objects.get(pk="phone-session").profile_id == "known"
    assert Event.objects.get(pk=event.pk).profile_id == "known"
    record = MergeRecord.objects.get()
    assert (record.survivor_id, record.merged_ids) == ("known", ["current"])
    assert record.reason == "Identification point 'E-mail': data.contact.email.main matched"
    assert record.actor == f"identification point {point.pk}"


@pytest.mark.django_db
def test_the_first_identification_makes_the_profile_hold_the_identifier():
    IdentificationPointFactory()
    current = ProfileFactory(id="current")

    assert identification_apply(event=identification("jo@x.io"), profile_id="current") == "current"

    current.refresh_from_db()
    assert current.data["contact"]["email"] == {"main": "jo@x.io"}
    assert "data.contact.email.main" in current.metadata["fields"]
    # The next device identifying with the same e-mail joins it.
    other = ProfileFactory(id="other")
    assert identification_apply(event=identification("jo@x.io"), profile_id=other.pk) == "current"


@pytest.mark.django_db
def test_points_match_on_type_source_and_every_pair():
    source = EventSourceFactory(id="shop")
    IdentificationPointFactory(
        event_type="sign-in",
        source=source,
        fields=[
            {"profile": "data.contact.email.main", "event": "properties.email"},
            {"profile": "traits.tenant", "event": "properties.tenant"},
        ],
    )
    with_email("jo@x.io", id="known", traits={"tenant": "acme"})
    ProfileFactory(id="current")
    event = identification("jo@x.io", source_id="shop", event_type="sign-in")

    assert identification_apply(event=event, profile_id="current") == "current"  # no tenant
    event["properties"]["tenant"] = "acme"
    assert identification_apply(event={**event, "source": {"id": "web"}}, profile_id="current") == (
        "current"
    )
    assert identification_apply(event=event, profile_id="current") == "known"


@pytest.mark.django_db
def test_empty_or_structured_values_identify_nobody():
    IdentificationPointFactory()
    with_email("", id="blank")
    ProfileFactory(id="current")

    for value in ("", "  ", None, {"main": "x"}, ["x"], True):
        event = {"type": "identification", "properties": {"email": value}}
        assert identification_apply(event=event, profile_id="current") == "current"
    assert Profile.objects.count() == 2


@pytest.mark.django_db
def test_point_fields_are_checked_before_saving():
    point = IdentificationPoint(
        name="Bad",
        event_type="Sign In",
        fields=[{"profile": "metadata.time", "event": "properties.email"}, {"profile": "x"}],
    )

    with pytest.raises(ValidationError) as caught:
        identification_point_save(point=point)

    assert caught.value.message_dict == {
        "event_type": ["Write the event type as stored: 'sign-in'."],
        "fields": [
            "Pair 1, profile: an identifier lives under data, traits, aux, e.g. "
            "data.contact.email.main.",
            'Pair 2: write it as {"profile": "data.contact.email.main", "event": '
            '"properties.email"}.',
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_one_person_identifying_from_two_sessions_at_once_ends_in_one_profile():
    IdentificationPointFactory()
    laptop = ProfileFactory(id="laptop")
    phone = ProfileFactory(id="phone")
    SessionFactory(id="laptop-session", profile=laptop)
    SessionFactory(id="phone-session", profile=phone)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def identify(profile_id: str) -> None:
        try:
            barrier.wait()
            results[profile_id] = identification_apply(
                event=identification("jo@x.io"), profile_id=profile_id
            )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=identify, args=(pid,)) for pid in ("laptop", "phone")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    holder = Profile.objects.get(data__contact__email__main="jo@x.io")
    assert Profile.objects.count() == 1
    assert set(results.values()) == {holder.pk}
    assert set(Session.objects.values_list("profile_id", flat=True)) == {holder.pk}
    assert holder.ids == [{"laptop": "phone", "phone": "laptop"}[holder.pk]]
