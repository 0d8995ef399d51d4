"""Issue 17: every operation of the management API (read from its own schema) refuses a
request without a key (401), with a revoked or expired key (401) and with a key of another
area (403), before it reads or writes anything."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api.keys import api_key_create, api_keys_revoke
from apps.api.models import ApiKey

pytestmark = pytest.mark.django_db

PUBLIC = {"/api/v1/health"}


def _operations() -> list[tuple[str, str]]:
    schema = APIClient().get("/api/schema/?format=json").json()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/") and path not in PUBLIC
        for method in operations
    ]


def _call(client: APIClient, method: str, path: str):
    # Every path parameter ({id}, {type}, {event_type}...) as "x".
    url = re.sub(r"\{[a-z_]+\}", "x", path)
    return getattr(client, method.lower())(url, {}, format="json")


def _bearer(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def test_every_operation_needs_a_valid_key_of_its_area(db):
    operations = _operations()
    assert len(operations) > 80
    # Routes nested under another object's (an event type's) are walked as well.
    assert ("POST", "/api/v1/event-types/{event_type}/indexed-properties/reindex/") in operations
    assert ("DELETE", "/api/v1/event-types/{event_type}/reshaping/{id}/") in operations
    _, revoked_plain = api_key_create(name="Revoked", scopes=["all"])
    api_keys_revoke(key_ids=list(ApiKey.objects.values_list("pk", flat=True)))
    _, expired_plain = api_key_create(
        name="Expired", scopes=["all"], expires_at=timezone.now() - timedelta(seconds=1)
    )
    _, imports_plain = api_key_create(name="Imports only", scopes=["imports:write"])
    _, sources_plain = api_key_create(name="Sources only", scopes=["sources:write"])
    anonymous, revoked, expired = APIClient(), _bearer(revoked_plain), _bearer(expired_plain)
    problems = []
    for method, path in operations:
        for who, client, expected in (
            ("no key", anonymous, 401),
            ("revoked", revoked, 401),
            ("expired", expired, 401),
        ):
            status = _call(client, method, path).status_code
            if status != expected:
                problems.append(f"{method} {path} with {who}: {status}")
        other_area = _bearer(sources_plain if "/imports/" in path else imports_plain)
        response = _call(other_area, method, path)
        if response.status_code != 403 or "lacks the scope" not in response.json()["detail"]:
            problems.append(f"{method} {path} with another area's key: {response.status_code}")
    assert problems == []
