"""The reference pages, generated from the registries the code runs on: workflow actions,
resource types and their senders, predefined event types, notation functions, environment
variables and beat jobs, `manage.py` commands, and what of Tracardi is covered.
`reference_pages()` returns them as {file name under docs/reference/: Markdown};
`write_reference()` writes them."""

from pathlib import Path

from django.core.management import get_commands, load_command_class

from apps.destinations.senders import BUILTIN_SENDERS, RESOURCE_TYPES, SENDERS
from apps.events.predefined import PREDEFINED_EVENT_TYPES
from apps.notation import FUNCTIONS
from apps.workflows.actions import ACTIONS, actions_by_group
from apps.workflows.actions.tracardi_names import tracardi_plugin_for_action
from cdp.docsite.coverage import tracardi_coverage_page
from cdp.docsite.markdown import GENERATED_NOTE, cell, code, json_block, prose, table
from cdp.docsite.schemas import example_config, schema_fields
from cdp.docsite.settings_source import beat_jobs, environment_variables

REFERENCE_DIR = Path(__file__).resolve().parent.parent.parent / "docs" / "reference"

# Options every Django command has; the reference lists each command's own.
DJANGO_COMMON_OPTIONS = frozenset(
    {
        "help",
        "version",
        "verbosity",
        "settings",
        "pythonpath",
        "traceback",
        "no_color",
        "force_color",
        "skip_checks",
    }
)


def _schema_table(schema: dict) -> str:
    rows = [
        [
            code(field.name) + (" *(required)*" if field.required else ""),
            cell(field.type),
            code(field.default) if field.has_default else "",
            code(field.example) if field.example is not None else "",
            cell(field.description),
        ]
        for field in schema_fields(schema)
    ]
    if not rows:
        return "No configuration.\n"
    return table(["Field", "Type", "Default", "Example", "Description"], rows)


def anchor(text: str) -> str:
    return text.replace("_", "-")


def actions_page() -> str:
    parts = [
        GENERATED_NOTE,
        "# Workflow actions\n",
        "Every node a workflow can use, by the group the editor's palette shows it in. A node's "
        "configuration is its `data.spec.init` (what the editor's form fills in); each field "
        "lists its type, its default (used when the field is left out) and an example. The "
        "ports are where a node's result travels: a value sent on a port follows only the "
        "edges drawn from that port.\n",
    ]
    for group, actions in actions_by_group().items():
        parts.append(f"## {group}\n")
        for action in actions:
            parts.append(f"### {action.name} {{#{anchor(action.id)}}}\n")
            parts.append(prose(action.description) + "\n")
            if action.docs:
                parts.append(prose(action.docs) + "\n")
            facts = [
                f"- **Id:** {code(action.id)}",
                "- **Input ports:** " + (", ".join(map(code, action.inputs)) or "none"),
                "- **Output ports:** " + (", ".join(map(code, action.outputs)) or "none"),
            ]
            plugin = tracardi_plugin_for_action(action.id)
            if plugin is not None:
                facts.append(
                    f"- **Tracardi plugin:** {code(plugin.class_name)} in {code(plugin.module)}"
                )
            if action.superuser_only:
                facts.append("- Only a superuser may save a workflow with this node.")
            parts.append("\n".join(facts) + "\n")
            parts.append(_schema_table(action.config_schema))
            if action.config_schema.get("properties"):
                parts.append(
                    "Example configuration:\n\n" + json_block(example_config(action.config_schema))
                )
    return "\n".join(parts)


def destinations_page() -> str:
    parts = [
        GENERATED_NOTE,
        "# Resource types and senders\n",
        "A **resource** holds the credentials of a remote system; a **destination** uses a "
        "resource and adds its settings and its mapping. Each resource type has a sender that "
        "delivers the rendered mapping. Credentials are write-only in the admin and the API.\n",
    ]
    # The built-in senders (plugins' have their own manuals): webhook, RabbitMQ, SMTP, then the
    # connectors' contact-list senders.
    for resource_type, sender in BUILTIN_SENDERS.items():
        label = RESOURCE_TYPES[resource_type].label
        parts.append(f"## {label} {{#{resource_type}}}\n")
        parts.append(f"Resource type {code(resource_type)}.\n")
        parts.append(prose(" ".join((type(sender).__doc__ or "").split())) + "\n")
        parts.append("### Destination settings\n")
        parts.append(_schema_table(sender.settings_schema))
        parts.append("### Resource credentials\n")
        parts.append(_schema_table(sender.credentials_schema))
    return "\n".join(parts)


def _mapping_rows(mappings: list[dict]) -> list[list[str]]:
    rows = []
    for rule in mappings:
        source = code("event@" + rule["event_path"]) if rule["event_path"] else ""
        rows.append(
            [
                code("profile@" + rule["profile_path"]),
                source,
                code(rule["operation"]),
                code(rule["condition"]) if rule["condition"] else "",
            ]
        )
    return rows


def event_types_page() -> str:
    parts = [
        GENERATED_NOTE,
        "# Predefined event types\n",
        "The event types installed with the CDP (Tracardi's), with their journey state, tags "
        "and how each copies event properties onto the profile. An event type edited in the "
        "admin keeps its changes; this page lists what is installed. Operations: `set` "
        "replaces, `set_if_empty` writes only an empty field, `append` adds to a list, `add` "
        "and `subtract` change a number by the event's value, `increment` by one.\n",
    ]
    summary = [
        [
            f"[{code(item['type'])}](#{item['type']})",
            cell(item["name"]),
            cell(item["journey_state"]),
            cell(", ".join(item["tags"])),
        ]
        for item in PREDEFINED_EVENT_TYPES
    ]
    parts.append(table(["Type", "Name", "Journey state", "Tags"], summary))
    for item in PREDEFINED_EVENT_TYPES:
        parts.append(f"## {item['name']} {{#{item['type']}}}\n")
        parts.append(f"Type {code(item['type'])}. {prose(item['description'])}\n")
        if item["mappings"]:
            parts.append(
                table(
                    ["Profile field", "From the event", "Operation", "Only when"],
                    _mapping_rows(item["mappings"]),
                )
            )
        else:
            parts.append("No profile mapping.\n")
    return "\n".join(parts)


def functions_page() -> str:
    rows = [
        [code(function.signature), cell(function.description)]
        for function in sorted(FUNCTIONS.values(), key=lambda function: function.name)
    ]
    return "\n".join(
        [
            GENERATED_NOTE,
            "# Notation functions\n",
            "Functions a condition may call (see [Conditions](../concepts/notation.md#functions)"
            "). Arguments are values, dot paths or other function calls; a missing or null "
            "argument makes the comparison false.\n",
            table(["Function", "Returns"], rows),
        ]
    )


def settings_page() -> str:
    rows = [
        [
            code(variable.name),
            cell(variable.kind),
            code(variable.default),
            cell(variable.description),
        ]
        for variable in environment_variables()
    ]
    jobs = [
        [code(job.name), code(job.task), code(job.schedule), cell(job.description)]
        for job in beat_jobs()
    ]
    return "\n".join(
        [
            GENERATED_NOTE,
            "# Settings and environment variables\n",
            "Every setting comes from the environment (`cdp/settings.py`); `.env.example` "
            "lists them with an example. A value that cannot be read (a word where a number "
            "belongs) stops the process at start-up with a message naming the variable. "
            "The default is as written in the settings.\n",
            table(["Variable", "Kind", "Default", "What it does"], rows),
            "## Periodic jobs (Celery beat)\n",
            "The beat schedule is code; the `beat` process sends these, the workers run "
            "them. Schedules are in seconds unless a crontab is shown.\n",
            table(["Entry", "Task", "Schedule", "What it does"], jobs),
        ]
    )


def project_commands() -> dict[str, str]:
    """The `manage.py` commands of the CDP's own apps (Django's are documented by Django)."""
    return {name: app for name, app in sorted(get_commands().items()) if app.startswith("apps.")}


def _option_rows(parser) -> list[list[str]]:
    rows = []
    for action in parser._actions:  # argparse keeps no public list of its arguments
        if action.dest in DJANGO_COMMON_OPTIONS:
            continue
        name = ", ".join(action.option_strings) or action.metavar or action.dest
        if action.option_strings and action.nargs != 0:
            name += " " + str(action.metavar or action.dest.upper())
        if action.choices:
            name += " (" + " | ".join(str(choice) for choice in action.choices) + ")"
        default = action.default
        shown_default = "" if default in (None, False, [], "==SUPPRESS==") else code(default)
        rows.append([code(name), shown_default, cell(action.help or "")])
    return rows


def commands_page() -> str:
    parts = [
        GENERATED_NOTE,
        "# manage.py commands\n",
        "The operator's commands, run as `.venv/bin/python manage.py NAME ...` with the same "
        "environment as the CDP (and the embedded servers when `DATABASE_URL` and `REDIS_URL` "
        "are unset). Each also takes Django's common options (`--verbosity`, `--settings`, "
        "...). `--help` prints the same.\n",
    ]
    for name, app in project_commands().items():
        command = load_command_class(app, name)
        parser = command.create_parser("manage.py", name)
        parts.append(f"## {name}\n")
        parts.append(f"`manage.py {name}` ({app.removeprefix('apps.')})\n")
        parts.append(prose(" ".join(command.help.split())) + "\n")
        rows = _option_rows(parser)
        parts.append(
            table(["Argument or option", "Default", "Meaning"], rows) if rows else "No options.\n"
        )
    return "\n".join(parts)


def reference_pages() -> dict[str, str]:
    pages = {
        "actions.md": actions_page(),
        "destinations.md": destinations_page(),
        "event-types.md": event_types_page(),
        "notation-functions.md": functions_page(),
        "settings.md": settings_page(),
        "commands.md": commands_page(),
        "tracardi-coverage.md": tracardi_coverage_page(),
    }
    return {name: text.rstrip("\n") + "\n" for name, text in pages.items()}


def write_reference(directory: Path = REFERENCE_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in reference_pages().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def _schema_gaps(schema: dict, where: str) -> list[str]:
    gaps = []
    for field in schema_fields(schema):
        if not field.description.strip():
            gaps.append(f"{where}: field {field.name} has no description")
        elif field.example_is_placeholder:
            gaps.append(
                f"{where}: field {field.name} has no example (give its schema `examples`, a "
                "default, or an 'e.g. ...' in its description)"
            )
    return gaps


def undocumented(
    *,
    actions=ACTIONS,
    senders=SENDERS,
    event_types=PREDEFINED_EVENT_TYPES,
    functions=FUNCTIONS,
) -> list[str]:
    """What is registered but has nothing to say for itself in the reference."""
    gaps: list[str] = []
    for action in actions:
        if not getattr(action, "description", "").strip():
            gaps.append(f"action {action.id}: no description")
        gaps += _schema_gaps(action.config_schema, f"action {action.id}")
    for resource_type, sender in senders.items():
        if not (type(sender).__doc__ or "").strip():
            gaps.append(f"sender {resource_type}: no docstring")
        gaps += _schema_gaps(sender.settings_schema, f"sender {resource_type} settings")
        gaps += _schema_gaps(sender.credentials_schema, f"sender {resource_type} credentials")
    gaps += [
        f"event type {item['type']}: no description"
        for item in event_types
        if not item["description"].strip()
    ]
    gaps += [
        f"function {function.name}: no description"
        for function in functions.values()
        if not function.description.strip()
    ]
    for name, app in project_commands().items():
        command = load_command_class(app, name)
        if not command.help.strip():
            gaps.append(f"command {name}: no help")
        gaps += [
            f"command {name}: {row[0]} has no help"
            for row in _option_rows(command.create_parser("manage.py", name))
            if not row[2]
        ]
    gaps += [
        f"environment variable {variable.name}: no description (.env.example comment)"
        for variable in environment_variables()
        if not variable.description.strip()
    ]
    gaps += [
        f"beat job {job.name}: no comment above it" for job in beat_jobs() if not job.description
    ]
    return gaps
