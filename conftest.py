"""Start the embedded PostgreSQL / Redis when DATABASE_URL / REDIS_URL are unset.

Runs before Django settings are read, so `pytest` works the same as `run.py test`.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")

from cdp.embedded import ensure_services  # noqa: E402

ensure_services()
