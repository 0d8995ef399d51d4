"""Every command of the getting-started pages, run against a live CDP: each must print what
the page says it prints (tests/docs/examples.py says how a page marks its examples)."""

import os
import shutil
import subprocess
from urllib.parse import quote

import pytest
from django.db import connection

from apps.api.health import WORKER_QUEUES
from apps.core.heartbeats import BEAT, heartbeat_record
from tests.docs.examples import DOCS, ROOT, fenced_blocks, page_examples, script, split_outputs
from tests.support.database import database_host

GETTING_STARTED = sorted((DOCS / "getting-started").glob("*.md"))
# The pages whose readers type commands; the marketer's works in the admin (screenshots).
PAGES_WITH_COMMANDS = {"site-owner.md", "operator.md", "developer.md"}


def _test_database_url() -> str:
    """The test database, for the page's `manage.py` commands (a socket directory, as the
    embedded PostgreSQL may use, is percent-encoded as dj-database-url reads it)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = quote(database_host(), safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}{port}/{db['NAME']}"


def test_the_pages_with_commands_have_examples_and_nothing_unmarked():
    assert {page.name for page in GETTING_STARTED} == {
        "site-owner.md",
        "marketer.md",
        "operator.md",
        "developer.md",
    }
    for page in GETTING_STARTED:
        languages = {language for language, _ in fenced_blocks(page)}
        assert not languages & {"sh", "bash", "shell", ""}, f"{page.name}: unmarked commands"
        if page.name in PAGES_WITH_COMMANDS:
            assert len(page_examples(page)) >= 3, page.name


@pytest.mark.parametrize(
    "page",
    [page for page in GETTING_STARTED if page.name in PAGES_WITH_COMMANDS],
    ids=lambda page: page.stem,
)
def test_each_command_answers_as_the_page_says(page, live_server, settings, tmp_path):
    # The processes the operator's health check looks for are running: they beat, and the
    # page's commands before the check may take long on a busy machine.
    if shutil.which("curl") is None:
        pytest.fail("The pages' examples use curl: install it (apt-get install curl).")
    settings.CDP_HEALTH_MAX_HEARTBEAT_AGE_SECONDS = 3600
    for name in (BEAT, *(f"queue:{queue}" for queue in WORKER_QUEUES)):
        heartbeat_record(name)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    examples = page_examples(page)
    env = {
        **os.environ,
        "CDP": live_server.url,
        "DATABASE_URL": _test_database_url(),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        ["bash", "-c", script(examples)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    outputs = split_outputs(result.stdout)
    assert len(outputs) == len(examples), result.stdout + result.stderr
    mismatches = [
        f"$ {example.command}\n--- the page says:\n{example.expected}\n--- it printed:\n{output}"
        for example, output in zip(examples, outputs, strict=True)
        if not example.matches(output)
    ]
    assert not mismatches, "\n\n".join(mismatches)
