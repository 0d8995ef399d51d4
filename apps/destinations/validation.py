"""Validation of destinations and resources, with messages a person can act on.

Called from the models' clean() (so the admin shows each message next to its field) and by the
services before they write. It reads no rows and imports no model: clean() passes the instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery.schedules import crontab
from jsonschema import Draft202012Validator

from apps import notation
from apps.destinations.senders import RESOURCE_TYPES, SENDERS, resource_plugins_ensure

if TYPE_CHECKING:
    from apps.destinations.models import Destination


def schema_errors(schema: dict, value: Any, *, what: str) -> list[str]:
    messages = []
    validator = Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(part) for part in error.absolute_path)
        # The validator's message quotes the offending value; for credentials that could be a
        # secret, so name the field and the rule instead.
        if what == "credentials":
            messages.append(f"{what}.{where or '(top level)'}: {_rule(error)}")
        else:
            messages.append(f"{what}.{where or '(top level)'}: {error.message}")
    return messages


def _rule(error: Any) -> str:
    if error.validator == "required":
        return error.message
    if error.validator == "additionalProperties":
        return "unknown key (" + error.message.split("(")[-1]
    return f"must satisfy {error.validator} {error.validator_value!r}"


def credentials_errors(*, resource_type: str, credentials: Any) -> list[str]:
    resource_plugins_ensure()
    kind = RESOURCE_TYPES.get(resource_type)
    if kind is None:
        return [f"Unknown resource type {resource_type!r}; use one of {sorted(RESOURCE_TYPES)}."]
    errors = schema_errors(kind.credentials_schema, credentials, what="credentials")
    if resource_type == "webhook" and not errors and credentials.get("basic_auth"):
        errors += [
            f"credentials.headers.{name} and credentials.basic_auth: both set the "
            "Authorization header (basic auth would replace the header); keep one of them."
            for name in _authorization_headers(credentials.get("headers"))
        ]
    return errors


def _authorization_headers(headers: Any) -> list[str]:
    """The names of the Authorization header in a headers object (any letter case): the HTTP
    client replaces that header with the basic auth, silently dropping a bearer token."""
    if not isinstance(headers, dict):
        return []
    return [name for name in headers if name.lower() == "authorization"]


def mapping_errors(mapping: Any) -> list[str]:
    """Every string leaf that names a source (`profile@...`) must be a well-formed reference."""
    errors: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            try:
                notation.parse_reference(value.strip("`"))
            except notation.NotationError as error:
                errors.append(str(error))

    walk(mapping)
    return errors


def _authorization_conflicts(destination: Destination) -> list[str]:
    credentials, settings = destination.resource.credentials, destination.settings
    if destination.resource.type != "webhook" or not isinstance(settings, dict):
        return []
    if not isinstance(credentials, dict) or not credentials.get("basic_auth"):
        return []
    return [
        f"settings.headers.{name}: the resource's basic_auth sets the Authorization header and "
        "would replace this one; remove one of them."
        for name in _authorization_headers(settings.get("headers"))
    ]


MAX_SYNC_INTERVAL_HOURS = 24 * 31
CRONTAB_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def crontab_fields(spec: str) -> dict[str, str]:
    """'0 2 * * 1-5' -> {"minute": "0", "hour": "2", ...}; ValueError with a message a person
    can act on when it is not five valid fields."""
    parts = spec.split()
    if len(parts) != len(CRONTAB_FIELDS):
        raise ValueError(
            f"Five fields separated by spaces (minute hour day-of-month month day-of-week), "
            f"e.g. '0 2 * * *'; got {len(parts)}."
        )
    fields = dict(zip(CRONTAB_FIELDS, parts, strict=True))
    try:
        crontab(**fields)
    except ValueError as error:
        raise ValueError(f"Not a valid crontab: {error}") from error
    return fields


def _sync_errors(destination: Destination) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    every = destination.sync_every
    Every = destination.SyncEvery
    if destination.kind != destination.Kind.PROFILE:
        for field in ("sync_segment_id", "removal_mapping"):
            if getattr(destination, field):
                errors[field.removesuffix("_id")] = [
                    "Scheduled syncs are for profile destinations; clear this or change the "
                    "kind to profile."
                ]
        if every:
            errors["sync_every"] = ["Scheduled syncs are for profile destinations."]
        return errors
    if every and not destination.sync_segment_id:
        errors["sync_segment"] = ["A schedule needs an audience segment: choose one."]
    if every == Every.DAY and destination.sync_time is None:
        errors["sync_time"] = ["Every day: give the time, e.g. 02:00."]
    if every == Every.HOURS and not (
        destination.sync_interval_hours
        and 1 <= destination.sync_interval_hours <= MAX_SYNC_INTERVAL_HOURS
    ):
        errors["sync_interval_hours"] = [
            f"Every N hours: give a number of hours from 1 to {MAX_SYNC_INTERVAL_HOURS}."
        ]
    if every == Every.CRONTAB:
        try:
            crontab_fields(destination.sync_crontab)
        except ValueError as error:
            errors["sync_crontab"] = [str(error)]
    if problems := mapping_errors(destination.removal_mapping):
        errors["removal_mapping"] = problems
    elif destination.removal_mapping and destination.resource_id:
        sender = SENDERS.get(destination.resource.type)
        if getattr(sender, "removes_contacts", True) is False:
            errors["removal_mapping"] = [
                f"{destination.resource.get_type_display()} contacts cannot be removed by a "
                "destination; clear the removal mapping (remove them in a workflow instead)."
            ]
    return errors


def _batch_conflicts(destination: Destination) -> list[str]:
    settings = destination.settings
    if destination.resource.type != "webhook" or not isinstance(settings, dict):
        return []
    if settings.get("method") == "GET" and settings.get("batch_size", 1) != 1:
        return ["settings.batch_size: batches are sent as a JSON body; use POST, PUT or PATCH."]
    return []


def destination_errors(destination: Destination) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if destination.condition.strip():
        try:
            notation.validate(destination.condition)
        except notation.ConditionSyntaxError as error:
            errors["condition"] = [str(error)]
    if problems := mapping_errors(destination.mapping):
        errors["mapping"] = problems
    if destination.resource_id:
        resource_plugins_ensure()
        sender = SENDERS.get(destination.resource.type)
        if sender is None:
            errors["resource"] = [
                f"Resource type {destination.resource.type!r} has no sender (a connector's or a "
                "plugin's resource type, for workflow actions, or its plugin is not installed); "
                f"choose a resource of one of these types: {', '.join(sorted(SENDERS))}."
            ]
        else:
            problems = schema_errors(sender.settings_schema, destination.settings, what="settings")
            problems += _authorization_conflicts(destination)
            problems += _batch_conflicts(destination)
            if problems:
                errors["settings"] = problems
    if destination.max_delay_seconds < destination.delay_seconds:
        errors["max_delay_seconds"] = [
            f"The max delay ({destination.max_delay_seconds} s) must not be shorter than the "
            f"delay ({destination.delay_seconds} s)."
        ]
    if destination.forward_erasures and (
        destination.resource_id and destination.resource.type != destination.resource.Type.WEBHOOK
    ):
        errors["forward_erasures"] = [
            "Only webhook resources receive deletion requests; clear this or use a webhook."
        ]
    if destination.kind == destination.Kind.PROFILE and (
        destination.event_type or destination.source_id
    ):
        errors["event_type"] = [
            "Event type and source filter apply to event destinations only; clear them or "
            "change the kind to event."
        ]
    errors.update(_sync_errors(destination))
    return errors
