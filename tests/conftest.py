import pytest

from apps.core.caches import process_caches_clear
from apps.destinations.selectors import destination_cache_clear
from apps.events.selectors import event_type_cache_clear
from apps.sources.selectors import event_source_cache_clear
from apps.workflows.selectors import workflow_caches_clear

# The per-process caches the /track hot path and the workers read (each lives a few seconds in
# production). Every test starts and ends with them empty, so rows a test creates are seen at
# once and never leak into the next test.
PROCESS_CACHE_CLEARS = (
    event_source_cache_clear,
    event_type_cache_clear,
    process_caches_clear,  # those made with apps.core.caches.process_cached
    workflow_caches_clear,
    destination_cache_clear,
)


def _clear_process_caches() -> None:
    for clear in PROCESS_CACHE_CLEARS:
        clear()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    _clear_process_caches()
    yield
    _clear_process_caches()
