"""Editing a profile by hand: the profile_edit service and the admin's edit page."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.destinations.models import Delivery
from apps.profiles.models import Profile, Segment
from apps.profiles.services.segments import segment_save
from apps.profiles.services.writes import profile_edit
from tests.destinations.factories import DestinationFactory
from tests.profiles.factories import ProfileFactory

JSON_FIELDS = ("traits", "interests", "consents", "aux", "data")


@pytest.fixture
def admin_client_(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


@pytest.fixture
def profile(db):
    return ProfileFactory(
        id="ann",
        traits={"plan": "free", "age": 41},
        interests={"shoes": 2},
        consents={"marketing": {"revoke": None}},
        aux={"note": "met at a fair"},
        data={"contact": {"email": {"main": "ann@example.com"}}},
        metadata={"time": {}, "fields": {}},
    )


def edit_url(profile_id: str) -> str:
    return reverse("admin:profiles_profile_edit", args=[profile_id])


def change_url(profile_id: str) -> str:
    return reverse("admin:profiles_profile_change", args=[profile_id])


def form_data(profile: Profile, **overrides) -> dict:
    """What a browser posts for the page as shown for `profile`, with some boxes changed:
    each field's value plus the value it was shown with (`initial-<name>`)."""
    data = {"initial-active": str(profile.active)}
    if overrides.get("active", profile.active):
        data["active"] = "on"
    for name in JSON_FIELDS:
        shown = json.dumps(getattr(profile, name))
        data[f"initial-{name}"] = shown
        value = overrides.get(name, getattr(profile, name))
        data[name] = value if isinstance(value, str) else json.dumps(value)
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- the service ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_profile_edit_rejects_wrong_types_naming_each_field_and_writes_nothing(profile):
    with pytest.raises(ValidationError) as caught:
        profile_edit(
            profile_id=profile.pk,
            changes={"traits": ["vip"], "active": "yes", "stats": {}, "aux": {"ok": 1}},
            actor="marketer",
        )

    assert caught.value.message_dict == {
        "traits": ["'traits' must be a JSON object ({...}), not list."],
        "active": ["'active' must be true or false, not str."],
        "stats": [
            "'stats' cannot be edited; editable fields: active, traits, interests, consents, "
            "aux, data."
        ],
    }
    profile.refresh_from_db()
    assert profile.aux == {"note": "met at a fair"}
    assert profile.metadata == {"time": {}, "fields": {}}


@pytest.mark.django_db
def test_profile_edit_replaces_whole_objects_and_returns_the_changed_paths(profile):
    changed = profile_edit(
        profile_id=profile.pk,
        changes={"traits": {"plan": "pro", "age": 41}, "interests": {}, "active": False},
        actor="marketer",
    )

    assert sorted(changed) == ["active", "interests.shoes", "traits.plan"]
    profile.refresh_from_db()
    assert profile.traits == {"plan": "pro", "age": 41}
    assert profile.interests == {}
    assert profile.active is False
    stamp = profile.updated.isoformat()
    assert profile.metadata == {
        "time": {"update": stamp},
        "fields": {"active": stamp, "interests.shoes": stamp, "traits.plan": stamp},
    }
    assert profile_edit(profile_id=profile.pk, changes={"aux": profile.aux}, actor="m") == []


@pytest.mark.django_db
def test_profile_edit_of_an_unknown_profile_says_so():
    with pytest.raises(Profile.DoesNotExist, match="No profile with id 'nobody'."):
        profile_edit(profile_id="nobody", changes={"traits": {}}, actor="marketer")


# --- the admin page -------------------------------------------------------------------------


def test_the_edit_page_shows_the_profile_pretty_printed(admin_client_, profile):
    change_page = admin_client_.get(change_url(profile.pk))
    assert change_page.status_code == 200
    assert f'<a href="{edit_url(profile.pk)}">Edit traits and data</a>' in change_page.text
    # The change page itself stays read-only: nothing there bypasses profile_edit.
    assert change_page.context["has_change_permission"] is False

    response = admin_client_.get(edit_url(profile.pk))

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields) == ["active", *JSON_FIELDS]
    assert form.initial["traits"] == {"plan": "free", "age": 41}
    assert form.initial["active"] is True
    # Indented, in the key order PostgreSQL's jsonb keeps (shorter keys first).
    pretty_traits = '{\n  "age": 41,\n  "plan": "free"\n}'
    assert f"{pretty_traits}</textarea>" in response.content.decode().replace("&quot;", '"')


def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, profile):
    client.force_login(get_user_model().objects.create_user(username="visitor"))

    response = client.get(edit_url(profile.pk))

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={edit_url(profile.pk)}"


def test_staff_without_the_change_permission_is_refused(client, profile):
    user = get_user_model().objects.create_user(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_profile"))
    client.force_login(user)

    assert client.get(change_url(profile.pk)).status_code == 200
    assert "Edit traits and data" not in client.get(change_url(profile.pk)).text
    assert client.get(edit_url(profile.pk)).status_code == 403
    response = client.post(edit_url(profile.pk), form_data(profile, traits={"plan": "pro"}))
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.traits == {"plan": "free", "age": 41}


def test_an_unknown_profile_is_not_found(admin_client_):
    assert admin_client_.get(edit_url("nobody")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_saving_changed_traits_stamps_them_and_schedules_one_sync(admin_client_, profile):
    destination = DestinationFactory()

    response = admin_client_.post(
        edit_url(profile.pk), form_data(profile, traits={"plan": "pro", "age": 41, "vip": True})
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(profile.pk)
    assert messages_of(response) == ["Changed traits.plan, traits.vip."]
    profile.refresh_from_db()
    assert profile.traits == {"plan": "pro", "age": 41, "vip": True}
    assert profile.interests == {"shoes": 2}
    stamp = profile.updated.isoformat()
    assert profile.metadata["fields"] == {"traits.plan": stamp, "traits.vip": stamp}
    assert profile.metadata["time"]["update"] == stamp
    delivery = Delivery.objects.get()
    assert delivery.destination_id == destination.pk
    assert delivery.profile_id == "ann"
    assert delivery.status == Delivery.Status.PENDING
    assert sorted(delivery.changed_fields) == ["traits.plan", "traits.vip"]
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.change_message) == ("ann", "Changed traits.plan, traits.vip.")


@pytest.mark.django_db(transaction=True)
def test_a_live_segment_follows_the_edit(admin_client_, profile):
    segment_save(segment=Segment(name="Pro plan", condition='profile@traits.plan == "pro"'))

    admin_client_.post(edit_url(profile.pk), form_data(profile, traits={"plan": "pro"}))

    profile.refresh_from_db()
    assert profile.traits == {"plan": "pro"}
    assert profile.segments == ["pro-plan"]

    admin_client_.post(edit_url(profile.pk), form_data(profile, traits={"plan": "free"}))

    profile.refresh_from_db()
    assert profile.segments == []


@pytest.mark.parametrize(
    ("posted", "error", "shown"),
    [
        ('{"plan": "pro",}', "Enter a valid JSON.", '{"plan": "pro",}'),
        ('["vip"]', "Enter a JSON object ({...}), not a list.", '[\n  "vip"\n]'),
        ("", "Enter a JSON object; {} for an empty one.", ""),
    ],
)
def test_a_box_that_is_not_a_json_object_shows_an_error_and_saves_nothing(
    admin_client_, profile, posted, error, shown
):
    updated = profile.updated
    response = admin_client_.post(
        edit_url(profile.pk), form_data(profile, traits=posted, aux={"note": "changed"})
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"traits": [error]}
    # What was typed stays in the box, to be corrected.
    page = response.content.decode().replace("&quot;", '"')
    assert f'id="id_traits">\n{shown}</textarea>' in page
    profile.refresh_from_db()
    assert profile.traits == {"plan": "free", "age": 41}
    assert profile.aux == {"note": "met at a fair"}
    assert profile.metadata == {"time": {}, "fields": {}}
    assert profile.updated == updated
    assert Delivery.objects.count() == 0


def test_unchanged_boxes_are_not_saved_over_a_change_made_meanwhile(admin_client_, profile):
    shown = form_data(profile, active=False)
    # The tracking pipeline counts an interest while the page is open.
    Profile.objects.filter(pk=profile.pk).update(interests={"shoes": 3})

    response = admin_client_.post(edit_url(profile.pk), shown)

    assert messages_of(response) == ["Changed active."]
    profile.refresh_from_db()
    assert profile.active is False
    assert profile.interests == {"shoes": 3}


def test_saving_without_a_change_says_nothing_changed(admin_client_, profile):
    response = admin_client_.post(edit_url(profile.pk), form_data(profile))

    assert response.status_code == 302
    assert messages_of(response) == ["Nothing changed."]
    profile.refresh_from_db()
    assert profile.metadata == {"time": {}, "fields": {}}
    assert LogEntry.objects.count() == 0
