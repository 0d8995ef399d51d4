import pytest

from apps.workflows.selectors import workflow_caches_clear


@pytest.fixture(autouse=True)
def _fresh_workflow_caches():
    workflow_caches_clear()
    yield
    workflow_caches_clear()
