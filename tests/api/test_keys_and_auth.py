"""Issue 17 item 1: API keys (hashed, shown once, scopes, expiry, last use, revoke) and the
401 / 403 answers that say what is wrong."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api.keys import api_key_create, api_keys_revoke
from apps.api.models import ApiKey

pytestmark = pytest.mark.django_db


def _bearer(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def test_the_command_prints_the_key_once_and_stores_only_its_hash():
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "CRM sync", "--scopes", "profiles:read", stdout=out, stderr=err)

    plain = out.getvalue().strip()
    key = ApiKey.objects.get()
    assert plain.startswith(f"cdp_{key.prefix}_")
    assert len(plain) == len("cdp_") + 8 + 1 + 43
    assert key.name == "CRM sync"
    assert key.scopes == ["profiles:read"]
    assert plain not in {key.key_hash, key.prefix, key.name}
    assert len(key.key_hash) == 64
    assert "will not be shown again" in err.getvalue()
    assert _bearer(plain).get("/api/v1/profiles/").status_code == 200


def test_the_command_refuses_an_unknown_scope_with_the_fix():
    with pytest.raises(CommandError) as refused:
        call_command("create_api_key", "x", "--scopes", "profile:read", stdout=io.StringIO())
    assert str(refused.value) == "Unknown scope(s): profile:read. Known scopes: see --help."
    assert ApiKey.objects.count() == 0


def test_no_key_is_401_and_says_how_to_send_one():
    response = APIClient().get("/api/v1/profiles/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Send an API key as 'Authorization: Bearer <key>' (create one in the admin "
        "under System → API keys, or with manage.py create_api_key), or sign in to the admin."
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_wrong_key_is_401_not_recognised():
    _, plain = api_key_create(name="Real", scopes=["all"])
    response = _bearer(plain[:-2] + "xx").get("/api/v1/profiles/")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This API key is not recognised")
    assert _bearer("garbage").get("/api/v1/profiles/").status_code == 401


def test_a_revoked_key_is_401_and_says_when():
    key, plain = api_key_create(name="Old", scopes=["all"])
    assert api_keys_revoke(key_ids=[key.pk]) == 1
    assert api_keys_revoke(key_ids=[key.pk]) == 0
    key.refresh_from_db()
    response = _bearer(plain).get("/api/v1/profiles/")
    assert response.status_code == 401
    when = timezone.localtime(key.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
    assert response.json() == {"detail": f"This API key (Old) was revoked on {when}."}


def test_an_expired_key_is_401_and_says_when():
    expired = timezone.now() - timedelta(minutes=1)
    _, plain = api_key_create(name="Temp", scopes=["all"], expires_at=expired)
    response = _bearer(plain).get("/api/v1/profiles/")
    assert response.status_code == 401
    when = timezone.localtime(expired).strftime("%Y-%m-%d %H:%M %Z")
    assert response.json() == {"detail": f"This API key (Temp) expired on {when}."}


def test_a_key_without_the_scope_is_403_naming_it(make_client):
    reader = make_client("sources:read")
    assert reader.get("/api/v1/sources/").status_code == 200
    response = reader.post("/api/v1/sources/", {"name": "New"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "This API key lacks the scope 'sources:write' (it has: sources:read)."
    }
    response = reader.get("/api/v1/profiles/")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("This API key lacks the scope 'profiles:read'")


def test_read_everything_reads_but_never_writes(make_client):
    client = make_client("all:read")
    assert client.get("/api/v1/sources/").status_code == 200
    assert client.get("/api/v1/profiles/").status_code == 200
    assert client.post("/api/v1/sources/", {"name": "x"}, format="json").status_code == 403


def test_write_includes_read(make_client):
    assert make_client("sources:write").get("/api/v1/sources/").status_code == 200


def test_last_use_is_recorded_at_most_once_a_minute():
    key, plain = api_key_create(name="Used", scopes=["all"])
    assert key.last_used_at is None
    client = _bearer(plain)
    client.get("/api/v1/sources/")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    client.get("/api/v1/sources/")
    key.refresh_from_db()
    assert key.last_used_at == first


def test_staff_sessions_work_and_other_sessions_do_not():
    developer = get_user_model().objects.create_user("developer", is_staff=True)
    developer.groups.add(Group.objects.get(name="Developer"))
    staff = APIClient()
    staff.force_login(developer)
    assert staff.get("/api/v1/sources/").status_code == 200
    visitor = APIClient()
    visitor.force_login(get_user_model().objects.create_user("visitor"))
    response = visitor.get("/api/v1/sources/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only staff users may use the API when signed in."}


def test_the_admin_shows_a_new_key_once_and_revokes_keys(client):
    admin_user = get_user_model().objects.create_superuser("admin")
    client.force_login(admin_user)
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "Mailing tool", "scopes": ["segments:read", "profiles:read"]},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    messages = [str(message) for message in response.context["messages"]]
    shown = [m for m in messages if m.startswith("Copy this key now")]
    assert len(shown) == 1
    plain = shown[0].rsplit(": ", 1)[1]
    assert plain.startswith(f"cdp_{key.prefix}_")
    assert key.scopes == ["profiles:read", "segments:read"]
    assert key.created_by == admin_user
    # Not on the key's page afterwards.
    page = client.get(f"/admin/api/apikey/{key.pk}/change/")
    assert plain not in page.content.decode()
    assert _bearer(plain).get("/api/v1/profiles/").status_code == 200

    response = client.post(
        "/admin/api/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    assert "1 API key(s) revoked" in response.content.decode()
    assert _bearer(plain).get("/api/v1/profiles/").status_code == 401


def test_the_admin_refuses_a_key_without_scopes_or_with_a_past_expiry(client):
    client.force_login(get_user_model().objects.create_superuser("admin"))
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "x", "scopes": [], "expires_at_0": "2001-01-01", "expires_at_1": "10:00"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["scopes"] == ["This field is required."]
    assert errors["expires_at"] == ["Pick a time in the future, or leave it empty."]
    assert ApiKey.objects.count() == 0
