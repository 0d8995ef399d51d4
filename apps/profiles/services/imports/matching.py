"""Finding the profiles the rows of a batch are about, with one query per batch.

- By profile id (the default): a row's `id` finds the profile with that id, or the profile it
  was merged into (`Profile.ids`). A row without an id is a new person.
- By identifier fields (`--match data.contact.email.main`, several: all must match, as in
  identification points): the profiles holding the row's values (e-mail: any case, through
  the expression index). Two or more holders are one person: they are merged into the oldest,
  as identification merges them (apps.profiles.services.merge).

Unlike identification, a batch takes no advisory lock per value: a thousand per transaction
would crowd PostgreSQL's shared lock table (max_locks_per_transaction), and a dry run holds
the whole file in one transaction. So a tracked identification that claims a new e-mail while
an import creates a profile with it can leave two profiles; the next identification by that
e-mail (or a re-import matching it) merges them, as it merges any two holders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection

from apps.profiles.models import ErasureRecord
from apps.profiles.services.imports.fields import CLEAR, Path, RowError, dotted, parse_path
from apps.profiles.services.merge import profiles_merge
from apps.profiles.validation import IDENTIFIER_ROOTS

EMAIL_PATH: Path = ("data", "contact", "email", "main")
ID_PATH: Path = ("id",)

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """How rows find their profile: by id (`paths` empty) or by identifier fields."""

    paths: tuple[Path, ...] = ()

    @property
    def by_id(self) -> bool:
        return not self.paths

    @property
    def names(self) -> list[str]:
        return [dotted(path) for path in self.paths] or ["id"]

    def row_key(self, fields: dict[Path, object]) -> Key | None:
        """The row's values at the match fields, normalised (e-mail in lower case); None when
        one is missing."""
        if self.by_id:
            value = fields.get(ID_PATH)
            return (value,) if isinstance(value, str) and value else None
        values = []
        for path in self.paths:
            value = fields.get(path)
            if value is None or value is CLEAR or isinstance(value, dict | list | bool):
                return None
            values.append(_normalised(path, value))
        return tuple(values)


def match_option(values: Sequence[str] | None) -> Match:
    """`--match` values: `id`, or one or more identifier fields (under data, traits, aux)."""
    if not values or list(values) == ["id"]:
        return Match()
    paths = []
    for text in values:
        try:
            path = parse_path(text.removeprefix("profile@"))
        except RowError as error:
            raise RowError(f"--match: {error}") from None
        if path == ID_PATH:
            raise RowError("--match id cannot be combined with identifier fields")
        if len(path) < 2 or path[0] not in IDENTIFIER_ROOTS:
            raise RowError(
                f"--match {text}: an identifier lives under {', '.join(IDENTIFIER_ROOTS)}, "
                "e.g. data.contact.email.main or traits.customer_number"
            )
        paths.append(path)
    return Match(tuple(dict.fromkeys(paths)))


def _normalised(path: Path, value: object) -> str:
    text = value if isinstance(value, str) else _number_text(value)
    return text.lower() if path == EMAIL_PATH else text


def _number_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ids_resolve(ids: Iterable[str]) -> dict[str, str]:
    """{requested id: id of the profile that has it as its own id or merged it}."""
    requested = sorted(set(ids))
    if not requested:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ids FROM profiles_profile WHERE id = ANY(%s) OR ids && %s::varchar[]",
            [requested, requested],
        )
        rows = cursor.fetchall()
    wanted = set(requested)
    found: dict[str, str] = {}
    for profile_id, _merged in rows:
        if profile_id in wanted:
            found[profile_id] = profile_id
    for profile_id, merged in rows:
        for merged_id in merged or ():
            if merged_id in wanted:
                found.setdefault(merged_id, profile_id)
    return found


def ids_forgotten(ids: Iterable[str]) -> set[str]:
    """Those of `ids` that an erasure recorded (the GIN index on ErasureRecord.profile_ids)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    erased = ErasureRecord.objects.filter(profile_ids__overlap=wanted)
    return {pid for ids_ in erased.values_list("profile_ids", flat=True) for pid in ids_} & set(
        wanted
    )


def holders_find(match: Match, keys: Iterable[Key]) -> dict[Key, list[str]]:
    """{key: ids of the profiles holding those values, oldest first}."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    first = match.paths[0]
    selects = ", ".join(_value_sql(path) for path in match.paths)
    # The first field narrows through its index (the e-mail's), the others are compared here.
    condition = f"{_value_sql(first)} = ANY(%s)"
    params = [sorted({key[0] for key in wanted})]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {selects} FROM profiles_profile WHERE {condition} ORDER BY created, id",
            params,
        )
        rows = cursor.fetchall()
    wanted_set = set(wanted)
    holders: dict[Key, list[str]] = {}
    for profile_id, *values in rows:
        key = tuple(values)
        if key in wanted_set:
            holders.setdefault(key, []).append(profile_id)
    return holders


def _value_sql(path: Path) -> str:
    """The SQL reading a field as text. Column and keys come from a checked `--match` path
    (IDENTIFIER_ROOTS, keys quoted as a text array literal); the e-mail's expression is the
    one its index is built on."""
    column = path[0]
    if column not in IDENTIFIER_ROOTS:
        raise RowError(f"{dotted(path)} cannot be matched")
    keys = ",".join('"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in path[1:])
    literal = "'{" + keys.replace("'", "''") + "}'"
    if path == EMAIL_PATH:
        return "LOWER((\"data\" #>> '{contact,email,main}'))"
    return f'("{column}" #>> {literal})'


def holders_merge(holders: list[str], *, match: Match) -> str:
    """Merge the profiles that hold one person's identifiers into the oldest; its id."""
    survivor = profiles_merge(
        profile_ids=holders,
        reason="Import: " + ", ".join(f"{name} matched" for name in match.names),
        actor="manage.py import_profiles",
    )
    return survivor.pk
