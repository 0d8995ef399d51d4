"""The Tracardi coverage page (docs/reference/tracardi-coverage.md): Tracardi's workflow plugins
and resource types (cdp.docsite.tracardi_catalogue) against what the code maps now, so its
counts follow the code."""

from __future__ import annotations

from dataclasses import dataclass

from apps.destinations.senders import RESOURCE_TYPES, SENDERS
from apps.workflows.actions.tracardi_names import PLUGINS, TracardiPlugin
from cdp.docsite.markdown import GENERATED_NOTE, cell, code, table
from cdp.docsite.tracardi_catalogue import (
    LACKING_PLUGINS,
    PLUGIN_PREFIX,
    TRACARDI_COMMIT,
    TRACARDI_PLUGINS,
    TRACARDI_RESOURCE_TYPES,
)


@dataclass(frozen=True, slots=True)
class Coverage:
    covered: list[tuple[str, str, TracardiPlugin]]  # (module, Tracardi name, our mapping)
    lacking: list[tuple[str, str, str]]  # (module, Tracardi name, reason)
    # Mapped plugins outside Tracardi's open-source set (commercial com_tracardi ones...).
    also_mapped: list[TracardiPlugin]
    resources_covered: list[tuple[str, str, bool, str]]  # (id, name, destination, ours)
    resources_lacking: list[tuple[str, str, bool, str]]  # (id, name, destination, reason)
    # Our resource types no Tracardi type corresponds to.
    resources_ours_only: list[str]


def tracardi_coverage() -> Coverage:
    mapped = {plugin.module: plugin for plugin in PLUGINS}
    covered, lacking = [], []
    for module, _class_name, name in TRACARDI_PLUGINS:
        plugin = mapped.get(PLUGIN_PREFIX + module)
        if plugin is not None:
            covered.append((module, name, plugin))
        else:
            lacking.append((module, name, LACKING_PLUGINS.get(module, "")))
    listed = {PLUGIN_PREFIX + module for module, _, _ in TRACARDI_PLUGINS}
    also_mapped = [plugin for plugin in PLUGINS if plugin.module not in listed]
    resources_covered, resources_lacking = [], []
    for type_id, name, destination, ours, note in TRACARDI_RESOURCE_TYPES:
        if ours is not None and ours in RESOURCE_TYPES:
            resources_covered.append((type_id, name, destination, ours))
        else:
            resources_lacking.append((type_id, name, destination, note))
    corresponding = {ours for *_, ours, _ in TRACARDI_RESOURCE_TYPES if ours}
    ours_only = [
        key
        for key, kind in RESOURCE_TYPES.items()
        if kind.origin is None and key not in corresponding
    ]
    return Coverage(covered, lacking, also_mapped, resources_covered, resources_lacking, ours_only)


def _sender(type_id: str) -> str:
    return "yes" if type_id in SENDERS else ""


def tracardi_coverage_page() -> str:
    found = tracardi_coverage()
    connectors = sum(1 for module, _, _ in found.lacking if module.startswith("connectors."))
    destinations = [row for row in TRACARDI_RESOURCE_TYPES if row[2]]
    with_sender = [row for row in found.resources_covered if row[2] and row[3] in SENDERS]
    parts = [
        GENERATED_NOTE,
        "# Tracardi coverage\n",
        "What of Tracardi this CDP covers, computed from the code: a Tracardi workflow plugin is "
        "covered when a node naming its module imports from a Tracardi flow and runs as one of "
        "our actions (`apps/workflows/actions/tracardi_names.py`); a Tracardi resource type "
        "when one of our resource types holds the same system's credentials. The lists are "
        f"Tracardi's open-source ones at commit {code(TRACARDI_COMMIT[:8])} (0.9.0): "
        "`tracardi/service/setup/setup_plugins.py` and `setup_resources.py`. Module paths are "
        f"under {code(PLUGIN_PREFIX)}.\n",
        "## Counts\n",
        table(
            ["", "Tracardi has", "covered", "lacking"],
            [
                [
                    "Workflow plugins",
                    str(len(TRACARDI_PLUGINS)),
                    str(len(found.covered)),
                    f"{len(found.lacking)} ({connectors} of them connectors)",
                ],
                [
                    "Resource types",
                    str(len(TRACARDI_RESOURCE_TYPES)),
                    str(len(found.resources_covered)),
                    str(len(found.resources_lacking)),
                ],
                [
                    "Resource types Tracardi can send to as a destination",
                    str(len(destinations)),
                    f"{len(with_sender)} (with a destination sender here)",
                    str(len(destinations) - len(with_sender)),
                ],
            ],
        ),
        f"Also mapped: {len(found.also_mapped)} plugins outside that list (Tracardi's "
        "commercial `com_tracardi` plugins, which publish their module paths and configs, and "
        "plugins added after it). Our resource types with no Tracardi type: "
        + ", ".join(code(key) for key in found.resources_ours_only)
        + ".\n",
        "## Workflow plugins covered\n",
        table(
            ["Tracardi module", "Tracardi name", "our action"],
            [
                [code(module), cell(name), code(plugin.action_id)]
                for module, name, plugin in found.covered
            ],
        ),
        "## Workflow plugins lacking\n",
        table(
            ["Tracardi module", "Tracardi name", "why / nearest here"],
            [[code(module), cell(name), cell(reason)] for module, name, reason in found.lacking],
        ),
        "## Also mapped (outside Tracardi's open-source list)\n",
        table(
            ["module", "class", "our action"],
            [
                [code(plugin.module), code(plugin.class_name), code(plugin.action_id)]
                for plugin in found.also_mapped
            ],
        ),
        "## Resource types covered\n",
        table(
            ["Tracardi type", "name", "Tracardi destination", "ours", "our destination sender"],
            [
                [code(type_id), cell(name), "yes" if destination else "", code(ours), _sender(ours)]
                for type_id, name, destination, ours in found.resources_covered
            ],
        ),
        "## Resource types lacking\n",
        table(
            ["Tracardi type", "name", "Tracardi destination", "why"],
            [
                [code(type_id), cell(name), "yes" if destination else "", cell(reason)]
                for type_id, name, destination, reason in found.resources_lacking
            ],
        ),
    ]
    return "\n".join(parts)
