import os
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.support.celery_worker import celery_worker_factory, worker_database_url  # noqa: F401


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_starts_answers_pings_and_dies_on_kill(celery_worker_factory):  # noqa: F811
    worker = celery_worker_factory()

    assert worker.ping() is True
    assert settings.DATABASES["default"]["NAME"].startswith("test_")
    worker_url = urlsplit(worker_database_url())
    configured = urlsplit(os.environ["DATABASE_URL"])
    # Same server (host, or socket directory in the query), the test database.
    assert (worker_url.netloc, worker_url.query) == (configured.netloc, configured.query)
    assert worker_url.path == "/" + settings.DATABASES["default"]["NAME"]

    worker.kill()

    assert worker.is_running() is False
    assert worker.ping(timeout=0.3) is False
