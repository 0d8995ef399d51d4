"""Issue 17: a schema-driven fuzz run (schemathesis) against /api/schema/: no input makes any
endpoint answer 5xx, and every answer fits its own schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from apps.api.health import WORKER_QUEUES
from apps.api.keys import api_key_create
from apps.core.heartbeats import heartbeat_record
from cdp.wsgi import application

# A few examples per operation: enough to try every parameter with odd values, within the
# suite's time budget.
EXAMPLES = 4


def in_test_transaction(environ, start_response):
    """The project's WSGI app, without closing the database connection after each request
    (as Django's test client does): the test's transaction holds the data it works on."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return application(environ, start_response)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# What the issue asks of the run: no 5xx, every answer fits its schema (status, content type,
# body, headers). Left out: the checks of how strictly input is refused (a schema-valid value
# the services still refuse, e.g. a malformed event type; an ignored bad `page_size`), and the
# coverage phase's exhaustive boundary cases (minutes per run; the examples below try odd
# values of every parameter within the suite's budget).
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {
            "negative_data_rejection": {"enabled": False},
            "positive_data_acceptance": {"enabled": False},
        },
    }
)
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", in_test_transaction, config=CONFIG
)


@pytest.fixture
def live_heartbeats():
    """Beat and the workers look alive, so /api/v1/health answers 200 (its 503 is a report,
    tested in test_health_and_stats, not a server error)."""
    for name in ("beat", *(f"queue:{queue}" for queue in WORKER_QUEUES)):
        heartbeat_record(name)


@pytest.fixture
def bearer(db):
    _, plain = api_key_create(name="Fuzz", scopes=["all"])
    return {"Authorization": f"Bearer {plain}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_breaks_an_endpoint(case, bearer, live_heartbeats):
    case.call_and_validate(headers=bearer)
