import pytest

from apps.sources.models import EventSource
from apps.sources.selectors import event_source_get_cached
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db


def test_a_source_is_read_once_per_ttl(settings, django_assert_num_queries):
    settings.CDP_SOURCE_CACHE_SECONDS = 60
    source = EventSourceFactory()

    with django_assert_num_queries(2):  # one per id, an unknown one included
        for _ in range(3):
            assert event_source_get_cached(source_id=source.pk) == source
            assert event_source_get_cached(source_id="unknown") is None


def test_a_change_is_seen_at_once_after_a_clear(settings):
    settings.CDP_SOURCE_CACHE_SECONDS = 60
    source = EventSourceFactory()
    event_source_get_cached(source_id=source.pk)
    EventSource.objects.filter(pk=source.pk).update(name="Renamed")

    assert event_source_get_cached(source_id=source.pk).name == source.name
    event_source_get_cached.cache_clear()
    assert event_source_get_cached(source_id=source.pk).name == "Renamed"


def test_a_change_is_seen_once_the_entry_expired(settings):
    settings.CDP_SOURCE_CACHE_SECONDS = 0
    source = EventSourceFactory()
    event_source_get_cached(source_id=source.pk)
    EventSource.objects.filter(pk=source.pk).update(name="Renamed")

    assert event_source_get_cached(source_id=source.pk).name == "Renamed"
