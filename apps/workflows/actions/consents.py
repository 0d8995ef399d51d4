"""Consents: `profile.consents` maps a consent type id to {"grant": ISO time, "revoke": ISO
time or null} (entries from before grant times were kept have only "revoke"). The event
processing records what these actions grant in the profile's consent history."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.notation.functions import to_datetime
from apps.profiles.consents import consent_valid
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result, readable_reference


def _consent_id(action: Action, payload: Any, flow) -> str:
    consent = flow.read(action.config["consent"], payload)
    if not isinstance(consent, str) or not consent.strip():
        raise ActionError(f"consent id must be a non-empty text, got {consent!r}")
    return consent.strip()


class AddConsentAction(Action):
    id = "add_consent"
    name = "Add consent"
    group = "Consents"
    description = "Records that the profile granted a consent, optionally until a date."
    docs = (
        "`consent`: the consent id (e.g. `marketing`, or a dot path to it). `revoke`: when the "
        "consent ends — empty for never, an ISO date/time, or a dot path to one. The profile "
        'gets `consents.<id> = {"grant": <now>, "revoke": <ISO time or null>}`, and the grant '
        "is recorded in its consent history."
    )
    config_schema = {
        "type": "object",
        "required": ["consent"],
        "properties": {
            "consent": {
                "type": "string",
                "minLength": 1,
                "title": "Consent",
                "description": "The consent type (e.g. marketing), or a dot path to it.",
                "x-notation": "value",
            },
            "revoke": {
                "type": ["string", "null"],
                "default": None,
                "title": "Revoke at",
                "description": "Optional: when the consent ends, a date or a dot path to one.",
                "x-notation": "value",
            },
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["consent"], field="consent")
        revoke = self.config["revoke"]
        if revoke and notation.parse_reference(revoke) is None:
            try:
                to_datetime(revoke)
            except (notation.NotationError, ValueError) as exc:
                raise ConfigError(f"revoke: {revoke!r} is not a date/time ({exc})") from exc

    def run(self, payload: Any, flow) -> Result:
        profile = flow.require_profile(self.name)
        consent = _consent_id(self, payload, flow)
        revoke_text = None
        if self.config["revoke"]:
            value = flow.read(self.config["revoke"], payload)
            if value not in (None, ""):
                try:
                    revoke_text = to_datetime(value).isoformat()
                except (notation.NotationError, ValueError) as exc:
                    raise ActionError(f"revoke: {value!r} is not a date/time") from exc
        consents = profile.get("consents")
        if not isinstance(consents, dict):
            consents = profile["consents"] = {}
        consents[consent] = {"grant": flow.now.isoformat(), "revoke": revoke_text}
        return Result("payload", payload)


class HasConsentAction(Action):
    id = "has_consent"
    name = "Has consent"
    group = "Consents"
    description = "Routes by whether the profile holds a consent that is not revoked."
    docs = (
        "`consent`: the consent id. The payload goes to `true` when the profile has it and its "
        "revoke time is empty or still in the future, to `false` otherwise (also when the "
        "revoke time cannot be read)."
    )
    outputs = ("true", "false")
    config_schema = {
        "type": "object",
        "required": ["consent"],
        "properties": {
            "consent": {
                "type": "string",
                "minLength": 1,
                "title": "Consent",
                "description": "The consent type (e.g. marketing), or a dot path to it.",
                "x-notation": "value",
            }
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["consent"], field="consent")

    def run(self, payload: Any, flow) -> Result:
        granted = consent_valid(flow.profile, _consent_id(self, payload, flow), flow.now)
        return Result("true" if granted else "false", payload)
