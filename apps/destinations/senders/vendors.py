"""Destination senders that keep a vendor's contact list in step with profiles: Mailchimp audience
members, HubSpot contacts, SendGrid Marketing contacts, ActiveCampaign contacts, Mautic contacts.

They call the vendors through the connectors' clients (apps.destinations.connectors: the same
endpoints, auth and error parsing as the workflow actions); the connectors never import senders.

The destination's mapping renders the contact: `email` is required (every vendor keys contacts
by it), the other keys are the vendor's fields (Mailchimp merge fields such as FNAME, HubSpot
properties such as firstname, SendGrid's contact fields, ActiveCampaign's contact fields, Mautic's
contact fields). A removal mapping that renders `{"action": "remove", "email": ...}` (a profile
that left a scheduled sync's audience) removes the contact where the vendor has a way to
(Mailchimp: unsubscribe, archive or delete; HubSpot: archive).

Outcomes: a vendor's refusal (4xx) fails the delivery for good with the vendor's own message; no
answer, a 5xx or a 429 is retried by the dispatcher, after the vendor's Retry-After when given
(the sender never sleeps on a worker). Credentials never reach the result: the client masks them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

from apps.destinations.connectors import crm, email_marketing
from apps.destinations.connectors.http import (
    VendorAnswer,
    VendorCall,
    VendorError,
    vendor_call,
)
from apps.destinations.connectors.types import ResourceType
from apps.destinations.senders.base import SendResult, excerpt

DEFAULT_TIMEOUT_SECONDS = 10.0
REMOVE_ACTIONS = ("remove", "delete")
_NO_SETTINGS: dict = {"type": "object", "properties": {}, "additionalProperties": False}


class ContactError(ValueError):
    """The rendered mapping cannot be sent (no e-mail...): a permanent failure that says what to
    fix in the destination."""


def contact_fields(payload: Any, *, vendor: str) -> tuple[str, dict]:
    """(e-mail, the other fields) of a rendered mapping; ContactError when it has no e-mail."""
    if not isinstance(payload, Mapping):
        raise ContactError(
            f"{vendor}: the destination's mapping must render an object with an `email` key, "
            f"got {type(payload).__name__}."
        )
    email = payload.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise ContactError(
            f"{vendor}: the mapping gave no e-mail address (`email` is {email!r}); map it, "
            'e.g. "email": "profile@data.contact.email.main", or add a condition that skips '
            "profiles without one."
        )
    fields = {key: value for key, value in payload.items() if key not in ("email", "action")}
    return email.strip(), fields


def is_removal(payload: Any) -> bool:
    return isinstance(payload, Mapping) and payload.get("action") in REMOVE_ACTIONS


class VendorContactSender:
    """The shared part: the resource type's credentials schema, the call, and the mapping of a
    VendorError to the delivery's outcome. Subclasses build the vendor's calls."""

    resource: ClassVar[ResourceType]
    vendor: ClassVar[str]
    settings_schema: ClassVar[dict] = _NO_SETTINGS
    # Whether `removal_call` removes the contact (a destination's removal mapping is refused
    # when it does not).
    removes_contacts: ClassVar[bool] = False

    @property
    def credentials_schema(self) -> dict:  # type: ignore[override]
        return self.resource.credentials_schema

    def send(
        self,
        *,
        payload: Any,
        changes: Sequence[str],
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        context: Mapping[str, Any],
        idempotency_key: str,
    ) -> SendResult:
        try:
            email, fields = contact_fields(payload, vendor=self.vendor)
            if is_removal(payload):
                call = self.removal_call(email, settings=settings, credentials=credentials)
            else:
                call = self.upsert_call(email, fields, settings=settings, credentials=credentials)
        except (ContactError, VendorError) as error:
            # Nothing was sent: the mapping or the credentials need fixing (a Mailchimp key
            # without its data centre), which no retry mends.
            return SendResult(ok=False, error=str(error))
        try:
            answer = vendor_call(
                call,
                vendor=self.vendor,
                credentials=credentials,
                timeout=DEFAULT_TIMEOUT_SECONDS,
                wait_on_rate_limit=False,
            )
        except VendorError as error:
            return SendResult(
                ok=False,
                status_code=error.status,
                response_excerpt=_shown(error.content),
                error=error.message,
                retryable=error.can_pass,
                retry_after=error.retry_after if error.can_pass else None,
            )
        return SendResult(ok=True, status_code=answer.status, response_excerpt=_answer(answer))

    def upsert_call(
        self,
        email: str,
        fields: dict,
        *,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
    ) -> VendorCall:
        raise NotImplementedError

    def removal_call(
        self, email: str, *, settings: Mapping[str, Any], credentials: Mapping[str, Any]
    ) -> VendorCall:
        raise ContactError(
            f"{self.vendor} contacts are not removed by this destination: clear the removal "
            "mapping, or remove them in a workflow."
        )


def _shown(content: Any) -> str:
    if content is None:
        return ""
    return excerpt(content if isinstance(content, str) else json.dumps(content, default=str))


def _answer(answer: VendorAnswer) -> str:
    return _shown(answer.content)


# -- Mailchimp ---------------------------------------------------------------------------------


class MailchimpAudienceSender(VendorContactSender):
    """PUT /lists/{list_id}/members/{md5(lower(email))}: adds or updates the member
    (`status_if_new` for a new one), the other mapped keys as merge fields. Removal: unsubscribe
    (PATCH status), archive (DELETE) or delete permanently (POST .../actions/delete-permanent)."""

    resource = email_marketing.MAILCHIMP
    vendor = "Mailchimp"
    removes_contacts = True
    settings_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["list_id"],
        "properties": {
            "list_id": {
                "type": "string",
                "minLength": 1,
                "description": "The audience id (Audience → Settings → Audience name and "
                "defaults).",
                "examples": ["a1b2c3d4e5"],
            },
            "status_if_new": {
                "enum": ["subscribed", "pending", "unsubscribed", "transactional"],
                "default": "subscribed",
                "description": "Status of a member the audience did not have (pending sends "
                "Mailchimp's double opt-in e-mail).",
            },
            "on_removal": {
                "enum": ["unsubscribe", "archive", "delete_permanently"],
                "default": "unsubscribe",
                "description": "What a removal (the removal mapping's "
                '{"action": "remove", "email": ...}) does to the member.',
            },
        },
        "additionalProperties": False,
    }

    def _member_path(self, settings: Mapping[str, Any], email: str) -> str:
        return f"/lists/{settings['list_id']}/members/{email_marketing.member_hash(email)}"

    def upsert_call(self, email, fields, *, settings, credentials) -> VendorCall:
        body: dict[str, Any] = {
            "email_address": email,
            "status_if_new": settings.get("status_if_new", "subscribed"),
        }
        if fields:
            body["merge_fields"] = fields
        return email_marketing.mailchimp_call(
            credentials, "PUT", self._member_path(settings, email), body
        )

    def removal_call(self, email, *, settings, credentials) -> VendorCall:
        path = self._member_path(settings, email)
        how = settings.get("on_removal", "unsubscribe")
        if how == "archive":
            return email_marketing.mailchimp_call(credentials, "DELETE", path)
        if how == "delete_permanently":
            return email_marketing.mailchimp_call(
                credentials, "POST", path + "/actions/delete-permanent"
            )
        return email_marketing.mailchimp_call(
            credentials, "PATCH", path, {"status": "unsubscribed"}
        )


# -- HubSpot -----------------------------------------------------------------------------------


class HubSpotContactSender(VendorContactSender):
    """POST /crm/v3/objects/contacts/batch/upsert with idProperty email: creates the contact or
    updates the one with that e-mail, the mapped keys as its properties. Removal: archive
    (DELETE /crm/v3/objects/contacts/{email}?idProperty=email)."""

    resource = email_marketing.HUBSPOT
    vendor = "HubSpot"
    removes_contacts = True

    def upsert_call(self, email, fields, *, settings, credentials) -> VendorCall:
        body = {
            "inputs": [
                {"id": email, "idProperty": "email", "properties": {"email": email, **fields}}
            ]
        }
        return email_marketing.hubspot_call(
            credentials, "POST", "/crm/v3/objects/contacts/batch/upsert", body=body
        )

    def removal_call(self, email, *, settings, credentials) -> VendorCall:
        return email_marketing.hubspot_call(
            credentials,
            "DELETE",
            f"/crm/v3/objects/contacts/{quote(email, safe='@')}",
            params={"idProperty": "email"},
        )


# -- SendGrid ----------------------------------------------------------------------------------


class SendGridContactSender(VendorContactSender):
    """PUT /v3/marketing/contacts {"list_ids": [list_id], "contacts": [{"email", ...}]}: adds or
    updates the contact (SendGrid answers 202 with a job id and applies it shortly after). The
    mapped keys are the contact's fields (first_name, last_name, city... and custom_fields by
    field id)."""

    resource = email_marketing.SENDGRID
    vendor = "SendGrid"
    settings_schema: ClassVar[dict] = {
        "type": "object",
        "properties": {
            "list_id": {
                "type": "string",
                "minLength": 1,
                "description": "The list the contact is added to (Marketing → Contacts → the "
                "list's id in its URL); none: all contacts only.",
                "examples": ["ca7a3796-e8a8-4029-9ccb-df8937940562"],
            },
        },
        "additionalProperties": False,
    }

    def upsert_call(self, email, fields, *, settings, credentials) -> VendorCall:
        body: dict[str, Any] = {"contacts": [{"email": email, **fields}]}
        if settings.get("list_id"):
            body = {"list_ids": [settings["list_id"]], **body}
        return email_marketing.sendgrid_call(credentials, "PUT", "/v3/marketing/contacts", body)


# -- ActiveCampaign ----------------------------------------------------------------------------


class ActiveCampaignContactSender(VendorContactSender):
    """POST /api/3/contact/sync {"contact": {"email", ...}}: creates the contact or updates the one
    with that e-mail; the mapped keys are its fields (firstName, lastName, phone, fieldValues)."""

    resource = crm.ACTIVECAMPAIGN
    vendor = "ActiveCampaign"

    def upsert_call(self, email, fields, *, settings, credentials) -> VendorCall:
        return crm.activecampaign_call(
            credentials, "POST", "/api/3/contact/sync", {"contact": {"email": email, **fields}}
        )


# -- Mautic ------------------------------------------------------------------------------------


class MauticContactSender(VendorContactSender):
    """POST /api/contacts/new {"email", ...}: Mautic updates the contact that has the e-mail (its
    unique identifier) or creates one; the mapped keys are contact fields by alias (firstname,
    lastname, company...)."""

    resource = crm.MAUTIC
    vendor = "Mautic"

    def upsert_call(self, email, fields, *, settings, credentials) -> VendorCall:
        return crm.mautic_call(credentials, "POST", "/api/contacts/new", {"email": email, **fields})


VENDOR_SENDERS: dict[str, VendorContactSender] = {
    sender.resource.key: sender
    for sender in (
        MailchimpAudienceSender(),
        HubSpotContactSender(),
        SendGridContactSender(),
        ActiveCampaignContactSender(),
        MauticContactSender(),
    )
}
