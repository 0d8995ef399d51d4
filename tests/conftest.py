import pytest

from apps.core.caches import process_caches_clear


# The per-process caches the /track hot path and the workers read (each lives a few seconds in
# production). Every test starts and ends with them empty, so rows a test creates are seen at
# once and never leak into the next test.
@pytest.fixture(autouse=True)
def _fresh_process_caches():
    process_caches_clear()
    yield
    process_caches_clear()
