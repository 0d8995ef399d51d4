import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from apps.events.templatetags.cdp_dashboard import CACHE_KEY


@pytest.fixture(autouse=True)
def _fresh_dashboard():
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_superuser(username="marketer")
    client.force_login(user)
    return client
