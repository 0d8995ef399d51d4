import pytest

from tests.destinations.servers import RecordingSmtpHandler, ScriptedHTTPServer, start_smtp_server
from tests.support.celery_worker import celery_worker_factory  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def _small_retry_delays(settings):
    # Backoff in milliseconds so retry scripts run in a blink; the lease stays the default.
    settings.CDP_DELIVERY_RETRY_BASE_MS = 20
    settings.CDP_DELIVERY_RETRY_MAX_MS = 200
    settings.CDP_DELIVERY_MAX_ATTEMPTS = 4


@pytest.fixture
def http_server():
    """`http_server([500, 500, 200])` starts a scripted server; stopped after the test."""
    servers: list[ScriptedHTTPServer] = []

    def start(script=None) -> ScriptedHTTPServer:
        server = ScriptedHTTPServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server():
    handler = RecordingSmtpHandler()
    controller = start_smtp_server(handler)
    yield controller, handler
    controller.stop()


from tests.support.plugins import plugin_site, with_plugins  # noqa: E402, F401  (fixtures)
