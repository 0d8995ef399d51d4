import pytest

from apps.sources.selectors import event_source_cache_clear


@pytest.fixture(autouse=True)
def _fresh_source_cache():
    event_source_cache_clear()
    yield
    event_source_cache_clear()
