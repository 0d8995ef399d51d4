"""Admin for resources, destinations and deliveries (one module each; importing them registers
their ModelAdmins), and the deliveries section of the profile page (profiles.py)."""

from apps.destinations.admin import deliveries, destinations, profiles, resources

__all__ = ["deliveries", "destinations", "profiles", "resources"]
