"""The resource page's "Test connection": one cheap, read-only call to the vendor with the
stored credentials (production or test), reported in words."""

from __future__ import annotations

from dataclasses import dataclass

from apps.destinations.connectors.http import VendorError
from apps.destinations.models import Resource
from apps.destinations.senders import RESOURCE_TYPES


@dataclass(frozen=True, slots=True)
class ConnectionTestOutcome:
    ok: bool
    message: str


def resource_connection_test(*, resource: Resource, test: bool = False) -> ConnectionTestOutcome:
    kind = RESOURCE_TYPES[resource.type]
    which = "test" if test else "production"
    if kind.check is None:
        return ConnectionTestOutcome(False, f"{kind.label} has no call to test a connection with.")
    credentials = resource.test_credentials if test else resource.credentials
    if not credentials:
        return ConnectionTestOutcome(False, f"No {which} credentials are stored.")
    try:
        said = kind.check(credentials)
    except VendorError as error:
        return ConnectionTestOutcome(False, f"{which.capitalize()} credentials: {error.message}")
    except (KeyError, TypeError):
        return ConnectionTestOutcome(False, f"The {which} credentials are incomplete.")
    return ConnectionTestOutcome(True, f"{which.capitalize()} credentials: {said}.")
