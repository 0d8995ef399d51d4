"""Reading settings from the environment, with errors that name the variable."""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name} (see .env.example).")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """A comma-separated list of CIDR networks (`10.0.0.0/8, 127.0.0.1/32, ::1/128`)."""
    networks = env_list(name, [])
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {network!r} is not a network; write e.g. 10.0.0.0/8 or 127.0.0.1/32."
            ) from None
    return networks


def env_days(name: str) -> int | None:
    """A retention in days: unset or empty is None (keep forever), else a whole number >= 1."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        days = int(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a number of days; write e.g. 90, or leave it unset to keep "
            "forever."
        ) from None
    if days < 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r}: keep at least 1 day, or leave it unset to keep forever."
        )
    return days
