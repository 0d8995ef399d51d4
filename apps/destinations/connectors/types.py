"""What a connector's resource type is: its name, its credentials' JSON schema (the admin builds
write-only form fields from it), and, where the vendor has a cheap call for it, the connection
check behind the resource page's "Test connection" button."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

# credentials -> a line saying what the vendor answered; raises VendorError.
ConnectionCheck = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class ResourceType:
    key: str
    label: str
    credentials_schema: dict
    check: ConnectionCheck | None = None
    # The vendor's API root; CDP_CONNECTOR_API_URLS[key] replaces it (a proxy, or the tests'
    # local server).
    api_url: str = ""
    # Built in: no plugin package (apps.core.plugins) provides it.
    origin: Any = None

    @property
    def id(self) -> str:
        return self.key

    def url(self, path: str = "", **parts: str) -> str:
        root = settings.CDP_CONNECTOR_API_URLS.get(self.key, self.api_url)
        return root.format(**parts).rstrip("/") + path


def secret(title: str, description: str = "", *, example: str = "") -> dict:
    """A secret string field; `example` shows its shape in the manual (never a real secret)."""
    field = {"type": "string", "minLength": 1, "title": title, "description": description}
    return field | {"examples": [example]} if example else field


def credentials_schema(required: list[str], **properties: dict) -> dict:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


URL_PATTERN = "^https?://[^\\s]+$"


def url_secret(title: str, description: str) -> dict:
    return {**secret(title, description), "pattern": URL_PATTERN}
