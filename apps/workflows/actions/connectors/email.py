"""E-mail and CRM connectors: SendGrid, Brevo, Mailchimp (audience and transactional), HubSpot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps import notation
from apps.destinations.connectors import email_marketing as vendors
from apps.destinations.connectors.http import VendorCall, VendorError
from apps.workflows.actions.connectors.base import (
    ConnectorAction,
    connector_schema,
    required,
    template_property,
)
from apps.workflows.actions.connectors.chat import PORTS_DOC

EMAIL_FIELDS = {
    "from": {
        "type": "string",
        "minLength": 3,
        "title": "From",
        "description": "The sender address, verified with the vendor, e.g. shop@example.com.",
    },
    "to": template_property("To", "Recipient address, e.g. {{profile@data.contact.email.main}}."),
    "subject": template_property("Subject", "May hold placeholders."),
    "message": template_property("Message", "The body; may hold placeholders.", long=True),
    "html": {
        "type": "boolean",
        "default": False,
        "title": "The message is HTML",
        "description": "Off: plain text.",
    },
}
EMAIL_DOCS = (
    "`from`, `to` (a template), `subject` and `message` (templates); `html` sends the message "
    "as HTML." + PORTS_DOC
)


def _email_setup(config: dict) -> None:
    required(config, "from", "to", "subject", "message")


def rendered_object(config: dict, key: str, data: dict) -> dict:
    value = notation.render_template(config.get(key) or {}, data)
    if not isinstance(value, dict):
        raise VendorError(f"{key}: the template rendered {type(value).__name__}, not an object")
    return value


def _email(action: ConnectorAction, data: dict, key: str = "to") -> str:
    address = action.required_text(key, data)
    if "@" not in address:
        raise VendorError(f"{key}: {address!r} is not an e-mail address; nothing was sent")
    return address


class SendgridSendEmailAction(ConnectorAction):
    id = "sendgrid_send_email"
    name = "SendGrid: send e-mail"
    description = "Sends one e-mail through SendGrid's Mail Send API."
    docs = EMAIL_DOCS
    resource_types = ("sendgrid",)
    vendor = "SendGrid"
    config_schema = connector_schema(
        resource_types, ["from", "to", "subject", "message"], **EMAIL_FIELDS
    )

    def setup(self) -> None:
        _email_setup(self.config)

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = {
            "personalizations": [{"to": [{"email": _email(self, data)}]}],
            "from": {"email": self.config["from"]},
            "subject": self.text("subject", data),
            "content": [
                {
                    "type": "text/html" if self.config["html"] else "text/plain",
                    "value": self.required_text("message", data),
                }
            ],
        }
        return vendors.sendgrid_call(credentials, "POST", "/v3/mail/send", body)


class SendgridAddContactAction(ConnectorAction):
    id = "sendgrid_add_contact"
    name = "SendGrid: add contact"
    description = "Adds or updates a Marketing Campaigns contact, optionally in lists."
    docs = (
        "`email` (a template), `fields` (an object template of contact fields such as "
        "first_name, last_name, city), `list_ids` (ids of SendGrid lists). SendGrid queues "
        "the upsert: `response` holds its job_id." + PORTS_DOC
    )
    resource_types = ("sendgrid",)
    vendor = "SendGrid"
    config_schema = connector_schema(
        resource_types,
        ["email"],
        email=template_property("E-mail", "e.g. {{profile@data.contact.email.main}}"),
        fields={
            "type": "object",
            "default": {},
            "title": "Contact fields",
            "description": "first_name, last_name, city… as dot paths or values.",
            "x-form": "object-template",
        },
        list_ids={
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": [],
            "title": "List ids",
            "description": "Optional: ids of SendGrid lists to add the contact to, e.g. "
            "ca7a3796-e8a8-4029-9ccb-df8937940562.",
        },
    )

    def setup(self) -> None:
        required(self.config, "email")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        contact = {
            "email": self.required_text("email", data),
            **rendered_object(self.config, "fields", data),
        }
        body: dict[str, Any] = {"contacts": [contact]}
        if self.config["list_ids"]:
            body["list_ids"] = list(self.config["list_ids"])
        return vendors.sendgrid_call(credentials, "PUT", "/v3/marketing/contacts", body)


class BrevoSendEmailAction(ConnectorAction):
    id = "brevo_send_email"
    name = "Brevo: send e-mail"
    description = "Sends one transactional e-mail through Brevo."
    docs = EMAIL_DOCS
    resource_types = ("brevo",)
    vendor = "Brevo"
    config_schema = connector_schema(
        resource_types, ["from", "to", "subject", "message"], **EMAIL_FIELDS
    )

    def setup(self) -> None:
        _email_setup(self.config)

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = {
            "sender": {"email": self.config["from"]},
            "to": [{"email": _email(self, data)}],
            "subject": self.text("subject", data),
            "htmlContent" if self.config["html"] else "textContent": self.required_text(
                "message", data
            ),
        }
        return vendors.brevo_call(credentials, "POST", "/v3/smtp/email", body)


class MandrillSendEmailAction(ConnectorAction):
    id = "mailchimp_send_email"
    name = "Mailchimp: send transactional e-mail"
    description = "Sends one e-mail through Mailchimp Transactional (Mandrill)."
    docs = EMAIL_DOCS + (
        " Mandrill answers 200 with a status per recipient: `rejected` or `invalid` go to "
        "`error` with the reject reason."
    )
    resource_types = ("mandrill",)
    vendor = "Mailchimp Transactional"
    config_schema = connector_schema(
        resource_types, ["from", "to", "subject", "message"], **EMAIL_FIELDS
    )

    def setup(self) -> None:
        _email_setup(self.config)

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        message = {
            "from_email": self.config["from"],
            "to": [{"email": _email(self, data), "type": "to"}],
            "subject": self.text("subject", data),
            "html" if self.config["html"] else "text": self.required_text("message", data),
        }
        call = vendors.mandrill_call(credentials, "/messages/send", {"message": message})
        return _with_rejections(call)


def _rejected(status: int, content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(item, dict) and item.get("status") in ("rejected", "invalid") for item in content
    )


def _reject_reasons(content: Any) -> str:
    if isinstance(content, list):
        return "; ".join(
            f"{item.get('email')}: {item.get('status')} ({item.get('reject_reason')})"
            for item in content
            if isinstance(item, dict) and item.get("status") in ("rejected", "invalid")
        )
    return vendors._message(content)


def _with_rejections(call: VendorCall) -> VendorCall:
    return VendorCall(
        call.method,
        call.url,
        headers=call.headers,
        json=call.json,
        error_message=_reject_reasons,
        is_error=_rejected,
    )


# -- Mailchimp audiences -------------------------------------------------------------------

AUDIENCE_FIELDS = {
    "list_id": {
        "type": "string",
        "minLength": 1,
        "title": "Audience id",
        "description": "Audience → Settings → Audience name and defaults → Audience ID, "
        "e.g. a1b2c3d4e5.",
    },
    "email": template_property("E-mail", "e.g. {{profile@data.contact.email.main}}"),
}


class _AudienceAction(ConnectorAction):
    resource_types = ("mailchimp",)
    vendor = "Mailchimp"

    def setup(self) -> None:
        required(self.config, "list_id", "email")

    def member_path(self, data: dict) -> str:
        member = vendors.member_hash(_email(self, data, "email"))
        return f"/lists/{self.config['list_id']}/members/{member}"


class MailchimpUpsertMemberAction(_AudienceAction):
    id = "mailchimp_upsert_member"
    name = "Mailchimp: add or update audience member"
    description = "Adds a contact to a Mailchimp audience, or updates it when it is there."
    docs = (
        "`email`, `status_if_new` (subscribed, pending: double opt-in, unsubscribed, "
        "transactional), `merge_fields` (an object template such as FNAME: "
        "profile@data.pii.firstname). An existing member keeps its status." + PORTS_DOC
    )
    config_schema = connector_schema(
        ("mailchimp",),
        ["list_id", "email"],
        **AUDIENCE_FIELDS,
        status_if_new={
            "enum": ["subscribed", "pending", "unsubscribed", "transactional"],
            "default": "subscribed",
            "title": "Status of a new member",
            "description": "pending sends Mailchimp's confirmation e-mail (double opt-in).",
        },
        merge_fields={
            "type": "object",
            "default": {},
            "title": "Merge fields",
            "description": "FNAME, LNAME… as dot paths or values.",
            "x-form": "object-template",
        },
    )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = {
            "email_address": _email(self, data, "email"),
            "status_if_new": self.config["status_if_new"],
        }
        if merge_fields := rendered_object(self.config, "merge_fields", data):
            body["merge_fields"] = merge_fields
        return vendors.mailchimp_call(credentials, "PUT", self.member_path(data), body)


class MailchimpRemoveMemberAction(_AudienceAction):
    id = "mailchimp_remove_member"
    name = "Mailchimp: remove audience member"
    description = "Archives a contact of a Mailchimp audience, or deletes it for good."
    docs = (
        "Archived members can be added again; `permanent` deletes the member and its data, "
        "and Mailchimp then refuses to re-import the address." + PORTS_DOC
    )
    config_schema = connector_schema(
        ("mailchimp",),
        ["list_id", "email"],
        **AUDIENCE_FIELDS,
        permanent={
            "type": "boolean",
            "default": False,
            "title": "Delete permanently",
            "description": "Off: archive (reversible).",
        },
    )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        path = self.member_path(data)
        if self.config["permanent"]:
            return vendors.mailchimp_call(credentials, "POST", f"{path}/actions/delete-permanent")
        return vendors.mailchimp_call(credentials, "DELETE", path)


class MailchimpTagMemberAction(_AudienceAction):
    id = "mailchimp_tag_member"
    name = "Mailchimp: tag audience member"
    description = "Adds tags to (or removes them from) a member of a Mailchimp audience."
    docs = "`tags`: tag names; `remove` takes them off instead." + PORTS_DOC
    config_schema = connector_schema(
        ("mailchimp",),
        ["list_id", "email", "tags"],
        **AUDIENCE_FIELDS,
        tags={
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "title": "Tags",
            "description": "Tag names; a tag Mailchimp does not know yet is created, e.g. vip.",
        },
        remove={
            "type": "boolean",
            "default": False,
            "title": "Remove these tags",
            "description": "Off: add them.",
        },
    )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        status = "inactive" if self.config["remove"] else "active"
        body = {"tags": [{"name": tag, "status": status} for tag in self.config["tags"]]}
        return vendors.mailchimp_call(credentials, "POST", f"{self.member_path(data)}/tags", body)


# -- HubSpot ---------------------------------------------------------------------------------

PROPERTIES = {
    "type": "object",
    "default": {},
    "title": "Contact properties",
    "description": "HubSpot property names (email, firstname, lastname, phone…) and values.",
    "x-form": "object-template",
}
CONTACT = template_property(
    "Contact", "The contact's e-mail (or HubSpot id, see below); may be a template."
)
ID_PROPERTY = {
    "enum": ["email", "hs_object_id"],
    "default": "email",
    "title": "The contact is named by",
    "description": "email, or hs_object_id for HubSpot's numeric id.",
}


def _contact_path(action: ConnectorAction, data: dict) -> tuple[str, dict]:
    contact = action.required_text("contact", data)
    params = {"idProperty": "email"} if action.config["id_property"] == "email" else {}
    return f"/crm/v3/objects/contacts/{contact}", params


class HubspotCreateContactAction(ConnectorAction):
    id = "hubspot_create_contact"
    name = "HubSpot: create contact"
    description = "Creates a HubSpot contact from profile data."
    docs = (
        "`properties`: an object template of HubSpot contact properties. A contact with the "
        "same e-mail answers 409 on `error` (message: Contact already exists. Existing ID: …)."
        + PORTS_DOC
    )
    resource_types = ("hubspot",)
    vendor = "HubSpot"
    config_schema = connector_schema(resource_types, ["properties"], properties=PROPERTIES)

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = {"properties": rendered_object(self.config, "properties", data)}
        return vendors.hubspot_call(credentials, "POST", "/crm/v3/objects/contacts", body=body)


class HubspotUpdateContactAction(ConnectorAction):
    id = "hubspot_update_contact"
    name = "HubSpot: update contact"
    description = "Updates the properties of a HubSpot contact found by e-mail or id."
    docs = "`contact`, `id_property`, `properties` (an object template)." + PORTS_DOC
    resource_types = ("hubspot",)
    vendor = "HubSpot"
    config_schema = connector_schema(
        resource_types,
        ["contact", "properties"],
        contact=CONTACT,
        id_property=ID_PROPERTY,
        properties=PROPERTIES,
    )

    def setup(self) -> None:
        required(self.config, "contact")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        path, params = _contact_path(self, data)
        body = {"properties": rendered_object(self.config, "properties", data)}
        return vendors.hubspot_call(credentials, "PATCH", path, body=body, params=params or None)


class HubspotGetContactAction(ConnectorAction):
    id = "hubspot_get_contact"
    name = "HubSpot: get contact"
    description = "Reads a HubSpot contact found by e-mail or id."
    docs = (
        "`contact`, `id_property`, `properties` (names of the properties to read; empty: "
        "HubSpot's defaults). An unknown contact answers 404 on `error`." + PORTS_DOC
    )
    resource_types = ("hubspot",)
    vendor = "HubSpot"
    config_schema = connector_schema(
        resource_types,
        ["contact"],
        contact=CONTACT,
        id_property=ID_PROPERTY,
        properties={
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": [],
            "title": "Properties to read",
            "description": "HubSpot property names, e.g. email, firstname; empty: the defaults.",
        },
    )

    def setup(self) -> None:
        required(self.config, "contact")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        path, params = _contact_path(self, data)
        if self.config["properties"]:
            params["properties"] = ",".join(self.config["properties"])
        return vendors.hubspot_call(credentials, "GET", path, params=params or None)
