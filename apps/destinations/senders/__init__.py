"""Senders and resource types. A new kind of destination is one module with a class that follows
`base.Sender`, registered here, or a plugin from another package (entry-point groups
`cdp.resource_types` and `cdp.senders`, loaded at start by `resource_plugins_ensure`;
docs/plugins.md).

A resource type is what a Resource holds (its credentials' schema); its sender delivers to it
(the destination settings' schema and `send`). A plugin resource type may come without a sender
(credentials for the plugin's own actions); destinations cannot use it then.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from apps.core.plugins import (
    RESOURCE_TYPES_GROUP,
    SENDERS_GROUP,
    PluginOrigin,
    plugins_load,
)
from apps.destinations.connectors import CONNECTOR_TYPES
from apps.destinations.connectors.types import ResourceType as ConnectorType
from apps.destinations.senders.base import (
    BatchItem,
    BatchSender,
    Sender,
    SendResult,
    batch_idempotency_key,
    batch_size_of,
)
from apps.destinations.senders.plugin_checks import (
    plugin_resource_type_check,
    plugin_sender_check,
)
from apps.destinations.senders.rabbitmq import RabbitMQSender
from apps.destinations.senders.smtp import SmtpSender
from apps.destinations.senders.vendors import VENDOR_SENDERS
from apps.destinations.senders.webhook import WebhookSender


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type of a sender (built in or a plugin's). The connectors' types
    (apps.destinations.connectors.types.ResourceType) answer the same attributes."""

    id: str
    label: str
    credentials_schema: dict
    origin: PluginOrigin | None = None
    # No cheap connection check, no vendor API root (see the connectors' types).
    check: None = None
    api_url: str = ""

    @property
    def key(self) -> str:
        return self.id


BUILTIN_SENDERS: dict[str, Sender] = {
    "webhook": WebhookSender(),
    "rabbitmq": RabbitMQSender(),
    "smtp": SmtpSender(),
}
_BUILTIN_LABELS = {"webhook": "HTTP webhook", "rabbitmq": "RabbitMQ", "smtp": "E-mail (SMTP)"}
BUILTIN_RESOURCE_TYPES: dict[str, ResourceType | ConnectorType] = {
    type_id: ResourceType(type_id, _BUILTIN_LABELS[type_id], sender.credentials_schema)
    for type_id, sender in BUILTIN_SENDERS.items()
}
# The connectors' resource types (workflow actions' credentials) come next; those a destination
# can sync profiles to have a sender too (senders/vendors.py).
_clash = set(BUILTIN_RESOURCE_TYPES) & {kind.key for kind in CONNECTOR_TYPES}
assert not _clash, f"connector types {_clash} clash with the senders' types"
BUILTIN_RESOURCE_TYPES.update({kind.key: kind for kind in CONNECTOR_TYPES})
BUILTIN_SENDERS.update(VENDOR_SENDERS)

# Built-ins and the plugins' (filled in place by resource_plugins_load, so modules that imported
# these names see the plugins too).
SENDERS: dict[str, Sender] = dict(BUILTIN_SENDERS)
RESOURCE_TYPES: dict[str, ResourceType | ConnectorType] = dict(BUILTIN_RESOURCE_TYPES)
SENDER_ORIGINS: dict[str, PluginOrigin] = {}


class MissingSender:
    """Stands in for the sender of a resource type nobody provides any more (its plugin was
    uninstalled): every send fails, for good, saying so."""

    settings_schema: ClassVar[dict] = {"type": "object"}
    credentials_schema: ClassVar[dict] = {"type": "object"}

    def __init__(self, resource_type: str) -> None:
        self.resource_type = resource_type

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
        return SendResult(
            ok=False,
            error=f"No sender for resource type {self.resource_type!r}: is the plugin that "
            "provides it installed? (see /api/v1/health, plugins)",
        )


_plugins_loaded = False


def resource_plugins_load() -> None:
    """(Re)load the resource types, then the senders, of installed plugins: those of the last
    load leave the registries first."""
    global _plugins_loaded
    _plugins_loaded = True
    for type_id in [key for key, item in RESOURCE_TYPES.items() if item.origin is not None]:
        del RESOURCE_TYPES[type_id]
    for type_id in list(SENDER_ORIGINS):
        del SENDERS[type_id], SENDER_ORIGINS[type_id]

    def check_resource_type(name: str, obj: object) -> None:
        taken = {key: _owner(item.origin) for key, item in RESOURCE_TYPES.items()}
        plugin_resource_type_check(obj, taken=taken)

    for plugin in plugins_load(RESOURCE_TYPES_GROUP, check_resource_type):
        type_id, label, schema = plugin_resource_type_check(plugin.obj, taken={})
        RESOURCE_TYPES[type_id] = ResourceType(type_id, label, schema, plugin.origin)

    def check_sender(name: str, obj: object) -> None:
        known = {key: _owner(item.origin) for key, item in RESOURCE_TYPES.items()}
        taken = {key: _owner(SENDER_ORIGINS.get(key)) for key in SENDERS}
        type_id, sender = plugin_sender_check(obj, resource_types=known, taken=taken)
        # Registered here: the next sender's check must see this one.
        SENDERS[type_id] = sender

    for plugin in plugins_load(SENDERS_GROUP, check_sender):
        SENDER_ORIGINS[plugin.obj.resource_type] = plugin.origin


def _owner(origin: PluginOrigin | None) -> str:
    return "a built-in" if origin is None else f"package {origin.package}"


def resource_plugins_ensure() -> None:
    """Load the plugins once per process: at start, or at the first use if that comes first
    (the admin builds its forms before the destinations app is ready)."""
    if not _plugins_loaded:
        resource_plugins_load()


def sender_for(resource_type: str) -> Sender:
    resource_plugins_ensure()
    return SENDERS.get(resource_type) or MissingSender(resource_type)


def resource_type_choices() -> list[tuple[str, str]]:
    """The choices of Resource.type: built-ins, then plugins (labelled with their package)."""
    resource_plugins_ensure()
    return [
        (
            item.id,
            item.label if item.origin is None else f"{item.label} (plugin {item.origin.package})",
        )
        for item in RESOURCE_TYPES.values()
    ]


__all__ = [
    "RESOURCE_TYPES",
    "SENDERS",
    "BatchItem",
    "BatchSender",
    "ResourceType",
    "SendResult",
    "Sender",
    "batch_idempotency_key",
    "batch_size_of",
    "resource_plugins_ensure",
    "resource_plugins_load",
    "resource_type_choices",
    "sender_for",
]
