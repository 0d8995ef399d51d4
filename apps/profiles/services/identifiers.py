"""Identifiers: profile values that name one person (an e-mail, a customer number), what
identification points and the `merge profiles` action match profiles by."""

import hashlib
import json
from collections.abc import Sequence

from django.db import connection, models
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

from apps.notation import MISSING, parse_reference
from apps.notation.dot import lookup
from apps.profiles.models import Profile


def identifier_values(document: dict, paths: Sequence[str]) -> list | None:
    """The profile's values at `paths`, or None if any is missing or empty."""
    values = []
    for path in paths:
        reference = parse_reference("profile@" + path)
        value = lookup({"profile": document}, reference) if reference else MISSING
        if not is_identifier(value):
            return None
        values.append(value)
    return values


def is_identifier(value) -> bool:
    if value is MISSING or value is None or isinstance(value, dict | list | bool):
        return False
    return not (isinstance(value, str) and not value.strip())


def _is_email_path(path: str) -> bool:
    return path == "data.contact.email.main"


def identifier_holders(paths: Sequence[str], values: Sequence) -> models.QuerySet:
    """Profiles whose fields at `paths` equal `values` (e-mail: case-insensitive, through the
    expression index on lower(data.contact.email.main))."""
    profiles = Profile.objects.all()
    for index, (path, value) in enumerate(zip(paths, values, strict=True)):
        lookup_path = "__".join(path.split("."))
        alias = f"identifier_{index}"
        if _is_email_path(path):
            profiles = profiles.alias(**{alias: Lower(KT(lookup_path))}).filter(
                **{alias: str(value).lower()}
            )
        else:
            profiles = profiles.alias(**{alias: KT(lookup_path)}).filter(**{alias: str(value)})
    return profiles


def identifier_lock(paths: Sequence[str], values: Sequence) -> None:
    """Serialise, until the transaction ends, everyone identifying by these values: two
    sessions of one person identifying at once must end in one profile, not two."""
    normalised = [
        str(value).lower() if _is_email_path(path) else str(value)
        for path, value in zip(paths, values, strict=True)
    ]
    key = json.dumps([list(paths), normalised], ensure_ascii=False)
    lock_id = int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
