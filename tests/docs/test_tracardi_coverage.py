"""The Tracardi coverage page cannot go stale: its counts are the code's mapping, every plugin or
resource type we lack says why, and no reason outlives the mapping that made it moot."""

from pathlib import Path

from apps.destinations.senders import RESOURCE_TYPES, SENDERS
from apps.workflows.actions.tracardi_names import PLUGINS, tracardi_plugin
from cdp.docsite.coverage import tracardi_coverage
from cdp.docsite.reference import REFERENCE_DIR
from cdp.docsite.tracardi_catalogue import (
    LACKING_PLUGINS,
    PLUGIN_PREFIX,
    TRACARDI_PLUGINS,
    TRACARDI_RESOURCE_TYPES,
)

ROOT = Path(__file__).resolve().parents[2]


def _mapped_modules() -> set[str]:
    return {plugin.module.removeprefix(PLUGIN_PREFIX) for plugin in PLUGINS}


def test_every_plugin_we_lack_says_why_and_no_reason_is_left_for_a_covered_one():
    listed = {module for module, _, _ in TRACARDI_PLUGINS}
    lacking = listed - _mapped_modules()

    assert sorted(set(LACKING_PLUGINS) - lacking) == []  # stale: now covered, or not Tracardi's
    assert sorted(lacking - set(LACKING_PLUGINS)) == []  # lacking without a reason
    assert [module for module, reason in LACKING_PLUGINS.items() if not reason.strip()] == []


def test_the_catalogue_lists_each_plugin_once_with_its_class():
    modules = [module for module, _, _ in TRACARDI_PLUGINS]
    assert len(modules) == len(set(modules)) == 177
    # A covered plugin's class name is the one our import looks up.
    for module, class_name, _ in TRACARDI_PLUGINS:
        if module in _mapped_modules() and class_name:
            assert tracardi_plugin(PLUGIN_PREFIX + module, class_name) is not None, module


def test_resource_types_name_ours_that_exist_and_say_why_when_lacking():
    for type_id, _, _, ours, note in TRACARDI_RESOURCE_TYPES:
        if ours is None:
            assert note.strip(), f"{type_id}: lacking without a reason"
        else:
            assert ours in RESOURCE_TYPES, f"{type_id}: our type {ours!r} is gone"
    assert len({row[0] for row in TRACARDI_RESOURCE_TYPES}) == len(TRACARDI_RESOURCE_TYPES) == 40


def test_the_counts_on_the_committed_page_are_the_mappings():
    covered = len({module for module, _, _ in TRACARDI_PLUGINS} & _mapped_modules())
    lacking = 177 - covered
    connectors = sum(
        1
        for module, _, _ in TRACARDI_PLUGINS
        if module not in _mapped_modules() and module.startswith("connectors.")
    )
    resources = sum(1 for row in TRACARDI_RESOURCE_TYPES if row[3] in RESOURCE_TYPES)
    destinations = [row for row in TRACARDI_RESOURCE_TYPES if row[2]]
    with_sender = sum(1 for row in destinations if row[3] in SENDERS)
    page = (REFERENCE_DIR / "tracardi-coverage.md").read_text()

    plugins_row = (
        f"| Workflow plugins | 177 | {covered} | {lacking} ({connectors} of them connectors) |"
    )
    assert plugins_row in page
    assert f"| Resource types | 40 | {resources} | {40 - resources} |" in page
    assert (
        f"| Resource types Tracardi can send to as a destination | {len(destinations)} | "
        f"{with_sender} (with a destination sender here) | {len(destinations) - with_sender} |"
    ) in page
    found = tracardi_coverage()
    assert (len(found.covered), len(found.lacking)) == (covered, lacking)


def test_the_senders_built_here_show_on_the_page():
    page = (REFERENCE_DIR / "tracardi-coverage.md").read_text()
    assert "| `hubspot` | HubSpot | yes | `hubspot` | yes |" in page
    assert "| `mautic` | Mautic | yes | `mautic` | yes |" in page
    assert "| `api` | API endpoint | yes | `webhook` | yes |" in page
    assert "| `civi_crm` | CiviCRM | yes | not built |" in page


def test_the_old_root_table_is_gone():
    assert not (ROOT / "COVERAGE_TABLE.md").exists()
    assert "reference/tracardi-coverage.md" in (ROOT / "mkdocs.yml").read_text()
