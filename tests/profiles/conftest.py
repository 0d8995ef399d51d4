import pytest

from apps.events.selectors import event_type_cache_clear
from apps.profiles.identification import identification_cache_clear
from apps.profiles.segments import live_segments_cache_clear


@pytest.fixture(autouse=True)
def _fresh_profile_caches():
    """Identification points, live segments and event types are cached per process."""
    for clear in (identification_cache_clear, live_segments_cache_clear, event_type_cache_clear):
        clear()
    yield
    for clear in (identification_cache_clear, live_segments_cache_clear, event_type_cache_clear):
        clear()
