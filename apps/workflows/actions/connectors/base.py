"""What every connector action shares: a Resource picked by id in its config (never credentials
in the graph), the resource's test credentials in test runs, one call through the shared client
(apps.destinations.connectors.http), and two ports:

- `response`: {"status": <HTTP status>, "content": <the vendor's answer>, "error": null}
- `error`: {"status": <status or null>, "content": <the vendor's answer or null>,
  "error": "<the vendor's message>"} — a refusal, a timeout, a rate limit that did not pass
  within CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS, or a resource that is gone.

The resource picker is the config property made by `resource_property`: the catalogue fills in
the resources of the action's types (apps.workflows.admin.editor), and saving a graph checks
that the picked resource exists and has one of those types.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from apps import notation
from apps.destinations.connectors.http import VendorAnswer, VendorCall, VendorError, vendor_call
from apps.destinations.selectors import (
    resource_for_action,
    resource_type_of,
    resources_of_types,
)
from apps.destinations.senders import RESOURCE_TYPES
from apps.workflows.actions.base import Action, ConfigError, Result
from apps.workflows.actions.http import IDEMPOTENCY_HEADER, remote_call_idempotency_key

if TYPE_CHECKING:
    from apps.workflows.engine import Flow

RESOURCE_TYPES_KEY = "x-resource-types"
MAX_TIMEOUT_SECONDS = 30


def resource_property(*types: str) -> dict:
    labels = " or ".join(RESOURCE_TYPES[kind].label for kind in types)
    return {
        "type": "string",
        "minLength": 1,
        "title": "Resource",
        "description": f"A {labels} resource (Destinations → Resources keeps its credentials).",
        RESOURCE_TYPES_KEY: list(types),
    }


TIMEOUT_PROPERTY = {
    "type": "number",
    "default": 10,
    "exclusiveMinimum": 0,
    "maximum": MAX_TIMEOUT_SECONDS,
    "title": "Timeout (seconds)",
    "description": f"How long to wait for the vendor, at most {MAX_TIMEOUT_SECONDS}.",
}


def template_property(title: str, description: str, *, long: bool = False) -> dict:
    prop = {
        "type": "string",
        "title": title,
        "description": description,
        "x-notation": "template",
    }
    return {**prop, "x-widget": "textarea"} if long else prop


def connector_schema(types: tuple[str, ...], required: list[str], **properties: dict) -> dict:
    return {
        "type": "object",
        "required": ["resource", *required],
        "properties": {
            "resource": resource_property(*types),
            **properties,
            "timeout": TIMEOUT_PROPERTY,
        },
    }


def resource_choices() -> list[tuple[str, str, str]]:
    """(id, name, type) of every resource, by name: one query for the whole catalogue."""
    return resources_of_types(tuple(RESOURCE_TYPES))


def with_resource_choices(schema: dict, resources: list[tuple[str, str, str]]) -> dict:
    """`schema` with each resource picker's choices filled in (for the editor's catalogue): the
    ids of the `resources` of its types as `enum`, their names as `x-enum-labels`."""
    properties = schema.get("properties", {})
    pickers = {key: prop for key, prop in properties.items() if RESOURCE_TYPES_KEY in prop}
    if not pickers:
        return schema
    filled = dict(properties)
    for key, prop in pickers.items():
        rows = [row for row in resources if row[2] in prop[RESOURCE_TYPES_KEY]]
        picker = {
            **prop,
            "enum": [row[0] for row in rows],
            "x-enum-labels": [row[1] for row in rows],
        }
        if not rows:
            picker["description"] = prop["description"] + " None exists yet: add one there first."
        filled[key] = picker
    return {**schema, "properties": filled}


def resource_errors(resource_id: Any, types: tuple[str, ...]) -> list[str]:
    kind = resource_type_of(resource_id)
    wanted = " or ".join(RESOURCE_TYPES[key].label for key in types)
    if kind is None:
        return [f"resource: there is no resource with id {resource_id!r}; pick a {wanted} one"]
    if kind not in types:
        label = RESOURCE_TYPES[kind].label if kind in RESOURCE_TYPES else kind
        return [f"resource: {resource_id!r} is a {label} resource; pick a {wanted} one"]
    return []


class ConnectorAction(Action):
    group = "Connectors"
    outputs = ("response", "error")
    # The resource types this action can call through, and the vendor's name in messages.
    resource_types: ClassVar[tuple[str, ...]]
    vendor: ClassVar[str]

    @classmethod
    def config_errors(cls, config: Any) -> list[str]:
        errors = super().config_errors(config)
        if errors:
            return errors
        return resource_errors(config["resource"], cls.resource_types)

    def run(self, payload: Any, flow: Flow) -> Result:
        resource = resource_for_action(self.config["resource"])
        if resource is None or resource.type not in self.resource_types:
            problem = resource_errors(self.config["resource"], self.resource_types)
            return _error(None, None, problem[0] if problem else "the resource is unusable")
        credentials = resource.credentials
        if flow.test_run:
            if resource.test_credentials:
                credentials = resource.test_credentials
                flow.log("info", f"test run: used the test credentials of {resource.name!r}")
            else:
                flow.log("info", f"test run: {resource.name!r} has no test credentials")
        data = flow.data(payload)
        try:
            answer = self.perform(credentials, data, flow)
        except VendorError as error:
            return _error(error.status, error.content, error.message)
        except KeyError as error:
            # Stored before its type's schema required this key (saving the resource checks).
            return _error(None, None, f"the resource's credentials lack {error}; save them again")
        return self.answered(answer, payload, flow)

    def answered(self, answer: VendorAnswer, payload: Any, flow: Flow) -> Result:
        """Where the vendor's answer goes; the text analysis actions send what it says."""
        return Result("response", self.answer_value(answer))

    def answer_value(self, answer: VendorAnswer) -> Any:
        """What `response` carries; the SQL actions put the rows there instead."""
        return {"status": answer.status, "content": answer.content, "error": None}

    def perform(self, credentials: Mapping[str, Any], data: dict, flow: Flow) -> VendorAnswer:
        """Call the vendor; HTTP connectors build a VendorCall in `request` instead."""
        call = self.request(credentials, data)
        headers = {**(call.headers or {}), IDEMPOTENCY_HEADER: idempotency_key(flow)}
        return vendor_call(
            dataclasses.replace(call, headers=headers),
            vendor=self.vendor,
            credentials=credentials,
            timeout=self.config["timeout"],
            remaining=flow.remaining,
        )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        raise NotImplementedError

    # -- helpers for subclasses ----------------------------------------------------------

    def text(self, key: str, data: dict) -> str:
        """A string template of the config, rendered (a missing value renders empty)."""
        return notation.render_string(self.config.get(key) or "", data, default="")

    def required_text(self, key: str, data: dict) -> str:
        value = self.text(key, data).strip()
        if not value:
            raise VendorError(f"{key}: {self.config.get(key)!r} rendered empty; nothing was sent")
        return value


def idempotency_key(flow: Flow) -> str:
    """Stable for (event, workflow, node, visit): a repeat of the call can be dropped."""
    return remote_call_idempotency_key(
        event_id=str(flow.event.get("id") or ""),
        workflow_id=str(flow.workflow.get("id") or ""),
        node_id=flow.node_id,
        visit=flow.node_visit,
    )


def _error(status: int | None, content: Any, message: str) -> Result:
    return Result("error", {"status": status, "content": content, "error": message})


def required(config: dict, *keys: str) -> None:
    for key in keys:
        if not str(config.get(key) or "").strip():
            raise ConfigError(f"{key}: fill it in")
