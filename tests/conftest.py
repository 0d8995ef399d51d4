import pytest
from django.test import override_settings

from apps.core.caches import process_caches_clear
from tests.support.fast_flush import fast_flush

# Fixtures every test package may use by name (the tracker's tests define their own browser).
pytest_plugins = ["tests.support.browser", "tests.support.vendor_server"]


# Production's PBKDF2 costs a third of a second per password set or checked on this kind of
# machine, and hundreds of tests create users or sign in. No test is about the hash's strength
# (passwords are still set and checked for real), so the tests hash with MD5.
@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# The flush after each transactional test, 3-4 s with TRUNCATE and post_migrate, in a tenth of
# that; the same rows are left (tests/support/fast_flush.py).
@pytest.fixture(scope="session", autouse=True)
def _fast_flush_after_transactional_tests():
    with fast_flush():
        yield


# The per-process caches the /track hot path and the workers read (each lives a few seconds in
# production). Every test starts and ends with them empty, so rows a test creates are seen at
# once and never leak into the next test.
@pytest.fixture(autouse=True)
def _fresh_process_caches():
    process_caches_clear()
    yield
    process_caches_clear()


# The tests' HTTP servers listen on 127.0.0.1, which a remote call with a templated URL may not
# reach unless allow-listed (apps.workflows.urlguard). Tests about the guard override this.
TEST_SERVER_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture(autouse=True)
def _test_servers_allow_listed(settings):
    settings.CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS = TEST_SERVER_NETWORKS
