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
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [identifier_lock_id(paths, values)])


def identifiers_lock(paths: Sequence[str], values_list: Sequence[Sequence]) -> None:
    """`identifier_lock` for many value tuples at once (an import batch), in one statement;
    taken in key order, so two batches that share values cannot deadlock on them."""
    lock_ids = sorted({identifier_lock_id(paths, values) for values in values_list})
    if not lock_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS keys",
            [lock_ids],
        )


def identifier_lock_id(paths: Sequence[str], values: Sequence) -> int:
    """The advisory lock key of these identifier values (e-mails in lower case)."""
    normalised = [
        str(value).lower() if _is_email_path(path) else str(value)
        for path, value in zip(paths, values, strict=True)
    ]
    key = json.dumps([list(paths), normalised], ensure_ascii=False)
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
