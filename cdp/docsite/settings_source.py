"""The environment variables the CDP reads, found in the code rather than listed by hand:
every `env_*("NAME", default)` call in `cdp/settings.py` (its default as written, and the
comment above its statement), joined with the line of `.env.example` that names it (its
comment). Variables that only the process commands read (`PORT`, `WEB_CONCURRENCY`...) come
from `.env.example` alone."""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS_FILE = ROOT / "cdp" / "settings.py"
ENV_EXAMPLE_FILE = ROOT / ".env.example"

_READERS = {"env_str", "env_bool", "env_int", "env_list", "env_networks", "env_days"}
_KIND = {
    "env_str": "text",
    "env_bool": "true/false",
    "env_int": "whole number",
    "env_list": "comma-separated list",
    "env_networks": "comma-separated CIDR networks",
    "env_days": "days",
}
_IMPLICIT_DEFAULT = {"env_networks": "(none)", "env_days": "(unset: forever)"}
_ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=([^#]*?)\s*(?:#\s*(.*))?$")


@dataclass(frozen=True, slots=True)
class EnvVariable:
    name: str
    kind: str
    default: str
    description: str
    in_settings: bool


@dataclass(frozen=True, slots=True)
class BeatJob:
    name: str
    task: str
    schedule: str
    description: str


def _comment_above(lines: list[str], lineno: int) -> str:
    """The block of `#` lines right above line `lineno` (1-based), as one sentence."""
    block: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.insert(0, lines[index].strip().lstrip("#").strip())
        index -= 1
    return " ".join(block)


def env_example() -> dict[str, tuple[str, str]]:
    """NAME -> (example value, comment) from .env.example."""
    found = {}
    for line in ENV_EXAMPLE_FILE.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            found[match[1]] = (match[2].strip(), (match[3] or "").strip())
    return found


def _settings_reads() -> list[tuple[str, str, str, str]]:
    """(name, reader, default as written, comment above the statement) per env_* call."""
    source = SETTINGS_FILE.read_text()
    lines = source.splitlines()
    reads = []
    for statement in ast.parse(source).body:
        comment = _comment_above(lines, statement.lineno)
        for node in ast.walk(statement):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _READERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                continue
            if len(node.args) > 1:
                default = " ".join(ast.get_source_segment(source, node.args[1]).split())
            else:
                default = _IMPLICIT_DEFAULT.get(node.func.id, "(required)")
            reads.append((node.args[0].value, node.func.id, default, comment))
    return reads


def environment_variables() -> list[EnvVariable]:
    example = env_example()
    variables: dict[str, EnvVariable] = {}
    for name, reader, default, comment in _settings_reads():
        if name in variables:
            continue
        description = example.get(name, ("", ""))[1] or comment
        variables[name] = EnvVariable(name, _KIND[reader], default, description, True)
    for name, (value, comment) in example.items():
        if name not in variables:
            variables[name] = EnvVariable(name, "text", value or "(unset)", comment, False)
    return list(variables.values())


def beat_jobs() -> list[BeatJob]:
    """The periodic jobs of CELERY_BEAT_SCHEDULE, with the comment above each entry."""
    source = SETTINGS_FILE.read_text()
    lines = source.splitlines()
    jobs = []
    for statement in ast.parse(source).body:
        if not (
            isinstance(statement, ast.Assign)
            and isinstance(statement.targets[0], ast.Subscript)
            and isinstance(statement.targets[0].value, ast.Name)
            and statement.targets[0].value.id == "CELERY_BEAT_SCHEDULE"
            and isinstance(statement.value, ast.Dict)
        ):
            continue
        entry = dict(zip(statement.value.keys, statement.value.values, strict=True))
        fields = {key.value: value for key, value in entry.items() if key is not None}
        schedule = " ".join(ast.get_source_segment(source, fields["schedule"]).split())
        jobs.append(
            BeatJob(
                name=ast.literal_eval(statement.targets[0].slice),
                task=ast.literal_eval(fields["task"]),
                schedule=schedule,
                description=_comment_above(lines, statement.lineno),
            )
        )
    return jobs
