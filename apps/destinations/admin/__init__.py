"""Admin for resources, destinations and deliveries (one module each; importing them registers
their ModelAdmins)."""

from apps.destinations.admin import deliveries, destinations, resources

__all__ = ["deliveries", "destinations", "resources"]
