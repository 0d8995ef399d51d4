"""Plugins installed for real, for tests (docs/plugins.md).

`plugin_site` (session scope) builds and installs the example package (examples/cdp-plugin-hello)
and a broken one (written here) with pip, offline (`--no-index --no-deps
--no-build-isolation`), into a private directory, `--target`, rather than the shared
site-packages: other test processes use the same virtualenv at the same time and must not
see them. Installed is installed: the directory holds the packages and their dist-info with
`entry_points.txt`, which importlib.metadata finds on sys.path.

`plugins_installed(site)` puts that directory on sys.path and loads the registries again (as a
process started with the plugins installed does), and on leaving takes them out again, so the
other tests see the built-ins only. A process started by a test (a Celery worker) gets the
directory through PYTHONPATH.

Use in a test module:

    from tests.support.plugins import plugin_site, with_plugins  # noqa: F401
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cdp-plugin-hello"
PLUGIN_MODULES = ("cdp_plugin_hello", "cdp_plugin_broken")

# A package with one good action and one of each mistake a plugin can make.
BROKEN_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "cdp-plugin-broken"
version = "2.0.1"

[project.entry-points."cdp.actions"]
broken_import = "cdp_plugin_broken.boom:BoomAction"
broken_echo = "cdp_plugin_broken.parts:EchoAction"
clash = "cdp_plugin_broken.parts:ClashAction"
bad_schema = "cdp_plugin_broken.parts:BadSchemaAction"
not_an_action = "cdp_plugin_broken.parts:NotAnAction"

[project.entry-points."cdp.resource_types"]
webhook = "cdp_plugin_broken.parts:WebhookAgain"

[project.entry-points."cdp.senders"]
orphan = "cdp_plugin_broken.parts:OrphanSender"

[tool.setuptools]
packages = ["cdp_plugin_broken"]
"""

BROKEN_MODULES = {
    "__init__.py": "",
    "boom.py": """
        raise RuntimeError("the licence server is unreachable")
    """,
    "parts.py": """
        from apps.workflows.actions.base import Action, Result


        class EchoAction(Action):
            id = "broken_echo"
            name = "Echo"
            group = "Broken plugin"
            description = "Sends the payload on."

            def run(self, payload, flow):
                return Result("payload", payload)


        class ClashAction(EchoAction):
            id = "copy_data"
            name = "My copy"


        class BadSchemaAction(EchoAction):
            id = "broken_bad_schema"
            config_schema = {
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": "zero"}},
            }


        class NotAnAction:
            id = "broken_plain"


        class WebhookAgain:
            id = "webhook"
            name = "Another webhook"
            credentials_schema = {"type": "object"}


        class OrphanSender:
            resource_type = "nowhere"
            settings_schema = {"type": "object"}

            def send(self, **kwargs):
                raise AssertionError("never used")
    """,
}


def _pip_install(source: Path, target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory) -> Path:
    """A directory with cdp-plugin-hello and cdp-plugin-broken installed by pip."""
    work = tmp_path_factory.mktemp("plugins")
    site = work / "site"
    # Built from copies: pip builds a local project in place (build/, *.egg-info).
    hello = work / "cdp-plugin-hello"
    shutil.copytree(EXAMPLE, hello, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    broken = work / "cdp-plugin-broken"
    (broken / "cdp_plugin_broken").mkdir(parents=True)
    (broken / "pyproject.toml").write_text(BROKEN_PYPROJECT)
    for name, text in BROKEN_MODULES.items():
        (broken / "cdp_plugin_broken" / name).write_text(textwrap.dedent(text))
    _pip_install(hello, site)
    _pip_install(broken, site)
    return site


def registries_reload() -> None:
    from apps.destinations.admin.destinations import settings_fields
    from apps.destinations.admin.resources import credential_fields
    from apps.destinations.senders import resource_plugins_load
    from apps.workflows.actions import plugin_actions_load

    plugin_actions_load()
    resource_plugins_load()
    # The admin forms' type fields follow at once (they would at their next page anyway).
    credential_fields()
    settings_fields()


@contextlib.contextmanager
def plugins_installed(site: Path) -> Iterator[None]:
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        registries_reload()
        yield
    finally:
        sys.path.remove(str(site))
        for name in [name for name in sys.modules if name.split(".")[0] in PLUGIN_MODULES]:
            del sys.modules[name]
        importlib.invalidate_caches()
        registries_reload()


@pytest.fixture
def with_plugins(plugin_site) -> Iterator[Path]:
    """The example and the broken plugin, installed for this test."""
    with plugins_installed(plugin_site):
        yield plugin_site
