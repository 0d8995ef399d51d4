"""What an API key may do: read or write, per area of the CDP, or everything.

A scope is `<area>:read`, `<area>:write` (which includes reading), `all:read` or `all`.
Views name their area; a safe method (GET, HEAD, OPTIONS) needs read, any other write.
"""

AREAS = (
    "sources",
    "profiles",
    "events",
    "workflows",
    "segments",
    "destinations",
    "imports",
    "reports",
)
ALL = "all"
ALL_READ = "all:read"
READ, WRITE = "read", "write"

SCOPE_CHOICES = (
    (ALL, "Everything (read and write)"),
    (ALL_READ, "Read everything"),
    *(
        (f"{area}:{level}", f"{area.capitalize()}: {level}")
        for area in AREAS
        for level in (READ, WRITE)
    ),
)
SCOPES = frozenset(value for value, _ in SCOPE_CHOICES)


def scope_needed(area: str, *, write: bool) -> str:
    return f"{area}:{WRITE if write else READ}"


def scopes_allow(scopes: list[str] | tuple[str, ...], area: str, *, write: bool) -> bool:
    held = set(scopes)
    if ALL in held or f"{area}:{WRITE}" in held:
        return True
    return not write and (ALL_READ in held or f"{area}:{READ}" in held)


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [scope for scope in scopes if scope not in SCOPES]
