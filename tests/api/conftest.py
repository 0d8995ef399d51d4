import pytest
from rest_framework.test import APIClient

from apps.api.keys import api_key_create


@pytest.fixture
def make_client(db):
    """An API client holding a new key with `scopes` (all, by default)."""

    def make(*scopes: str, **key_fields) -> APIClient:
        _, plain = api_key_create(name="Test", scopes=list(scopes or ["all"]), **key_fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
        return client

    return make


@pytest.fixture
def client_all(make_client) -> APIClient:
    return make_client("all")
