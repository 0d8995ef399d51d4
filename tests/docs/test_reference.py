"""The generated reference: nothing registered goes undescribed, and the committed pages are
what the code generates now (`python3 run.py docs` rewrites them)."""

from apps.destinations.senders import SENDERS
from apps.workflows.actions import ACTIONS
from apps.workflows.actions.base import Action
from cdp.docsite.build import stale_reference_pages
from cdp.docsite.markdown import cell, prose
from cdp.docsite.reference import reference_pages, undocumented, write_reference
from cdp.docsite.settings_source import env_example, environment_variables


def test_everything_registered_has_a_description():
    assert undocumented() == []


def test_an_action_or_field_without_a_description_is_reported():
    class Mute(Action):
        id = "mute"
        name = "Mute"
        group = "Flow"
        description = ""
        config_schema = {
            "type": "object",
            "properties": {
                "level": {"type": "integer"},
                "told": {"type": "string", "description": "Said, e.g. hello."},
                "name": {"type": "string", "description": "A name."},
            },
        }

    class QuietSender:
        settings_schema = {"type": "object", "properties": {"url": {"type": "string"}}}
        credentials_schema = {"type": "object", "properties": {}}

    assert undocumented(actions=(*ACTIONS, Mute), senders={**SENDERS, "quiet": QuietSender()}) == [
        "action mute: no description",
        "action mute: field level has no description",
        "action mute: field name has no example (give its schema `examples`, a default, or an "
        "'e.g. ...' in its description)",
        "sender quiet: no docstring",
        "sender quiet settings: field url has no description",
    ]


def test_the_committed_reference_is_what_the_code_generates():
    assert stale_reference_pages() == [], "run `python3 run.py docs` and commit docs/reference/"


def test_every_variable_the_settings_read_is_in_env_example():
    example = env_example()
    assert [
        v.name for v in environment_variables() if v.in_settings and v.name not in example
    ] == []


def test_the_reference_lists_every_action_sender_and_command_by_name():
    pages = reference_pages()
    for action in ACTIONS:
        assert f"### {action.name} {{#{action.id.replace('_', '-')}}}" in pages["actions.md"]
    for resource_type in SENDERS:
        assert f"{{#{resource_type}}}" in pages["destinations.md"]
    assert "## import_profiles\n" in pages["commands.md"]
    assert "| `--match FIELD` |" in pages["commands.md"]
    assert "| `CDP_ANSWER_BUDGET_MS` | whole number | `100` |" in pages["settings.md"]
    assert "| `tracking-retention-purge` | `tracking.retention_purge` | " in pages["settings.md"]


def test_text_from_the_code_cannot_put_html_into_the_pages():
    assert prose("runs <script> elements, not `<b>` nor `` a`<i>`b ``") == (
        "runs &lt;script&gt; elements, not `<b>` nor `` a`<i>`b ``"
    )
    assert cell("a | <i>\n`x|y`") == "a \\| &lt;i&gt; `x|y`"
    assert "<script>" not in "".join(reference_pages().values()).replace("`<script>`", "")


def test_a_reference_page_edited_by_hand_or_left_behind_is_found(tmp_path):
    write_reference(tmp_path)
    assert stale_reference_pages(tmp_path) == []
    (tmp_path / "settings.md").write_text("# Settings\n")
    (tmp_path / "commands.md").unlink()
    assert stale_reference_pages(tmp_path) == ["settings.md", "commands.md"]
