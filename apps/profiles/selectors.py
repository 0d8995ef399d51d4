"""Reads of profiles and sessions: the one profile resolver, and the bounded counts and lists
behind the admin's pages. Rows of other apps (events, runs) are read through the followers
they registered (apps.profiles.hooks), never by importing those apps."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import OperationalError, connection
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, JSONObject, Lower, RowNumber
from django.utils import timezone

from apps import notation
from apps.core.db import statement_timeout
from apps.core.jsonpaths import JsonPath, json_paths
from apps.core.paginator import Count, bounded_count
from apps.core.rows import values_stream
from apps.core.text import segment_slug
from apps.profiles.documents import DOCUMENT_FIELDS, profile_document_of
from apps.profiles.hooks import ProfileFollower, profile_follower, profile_history
from apps.profiles.models import (
    ConsentChange,
    ConsentType,
    Entity,
    ErasureRecord,
    IdentificationPoint,
    Profile,
    Segment,
    Session,
)
from apps.profiles.segment_sql import PROFILE_JSON_COLUMNS, condition_sql

RELATED_COUNT_CAP = 1_000
RECENT_PROFILES_FOR_SEGMENTS = 500
# The condition builder suggests the paths of this many most recently updated profiles.
RECENT_PROFILES_FOR_PATHS = 1_000
# Paths of Tracardi's Profile object that the condition builder offers even when no profile has
# them yet, with their types.
PROFILE_KNOWN_PATHS: tuple[tuple[str, str], ...] = (
    ("data.contact.email.main", "string"),
    ("data.contact.email.business", "string"),
    ("data.contact.email.private", "string"),
    ("data.contact.phone.main", "string"),
    ("data.contact.phone.mobile", "string"),
    ("data.contact.address.town", "string"),
    ("data.contact.address.country", "string"),
    ("data.pii.firstname", "string"),
    ("data.pii.lastname", "string"),
    ("data.pii.gender", "string"),
    ("data.pii.birthday", "date"),
    ("data.preferences.language", "string"),
    ("data.job.company.name", "string"),
    ("stats.visits", "number"),
    ("stats.views", "number"),
    ("metadata.time.insert", "date"),
    ("metadata.time.create", "date"),
    ("metadata.time.update", "date"),
    ("metadata.time.visit.last", "date"),
    ("metadata.time.visit.count", "number"),
    ("segments", "array"),
    ("ids", "array"),
    ("active", "boolean"),
    ("id", "string"),
)


def profile_find(*, profile_id: str, lock: bool = False) -> Profile | None:
    """A profile by its id or by an id merged into it (locked FOR UPDATE with `lock`)."""
    profiles = Profile.objects.filter(Q(pk=profile_id) | Q(ids__contains=[profile_id]))
    if lock:
        profiles = profiles.select_for_update()
    return profiles.order_by("-updated").first()


class ResolvedProfile(NamedTuple):
    id: str
    own_id_static: bool  # its own id was chosen by a client (it is in its `static_ids`)


def profile_id_resolve(*, profile_id: str, static: bool) -> ResolvedProfile | None:
    """The profile that has this id as its own or merged into it; one indexed query reading
    two columns (a returning visitor's profile row is read only if a visit must be counted).

    Without `static`, an id a client chose (`Profile.static_ids`) does not resolve: only a
    source that allows static ids may name a profile by it; elsewhere only a server-issued id,
    an unguessable UUID the client was given, does (the bearer model, README "Profile ids").
    None while the profile is being erased: its ids are forgotten from the erasure's start."""
    being_erased = ErasureRecord.objects.filter(
        status=ErasureRecord.Status.RUNNING, profile_ids__contains=[profile_id]
    )
    profiles = Profile.objects.filter(Q(pk=profile_id) | Q(ids__contains=[profile_id])).exclude(
        Exists(being_erased)
    )
    if not static:
        profiles = profiles.exclude(static_ids__contains=[profile_id])
    row = profiles.order_by("-updated").values_list("pk", "static_ids").first()
    if row is None:
        return None
    found_id, static_ids = row
    return ResolvedProfile(found_id, found_id in static_ids)


def profile_id_is_forgotten(profile_id: str) -> bool:
    """Whether an erased profile had this id (its own or a merged one); one indexed query."""
    return ErasureRecord.objects.filter(profile_ids__contains=[profile_id]).exists()


def profiles_count() -> Count:
    """All profiles, counted up to a cap (then PostgreSQL's estimate)."""
    return bounded_count(Profile.objects.all())


def segments_of_recent_profiles(*, limit: int = RECENT_PROFILES_FOR_SEGMENTS) -> list[str]:
    """Segment names found on the most recently updated profiles (via the -updated index):
    the choices of the admin's segment filter, without reading every profile."""
    rows = Profile.objects.order_by("-updated").values_list("segments", flat=True)[:limit]
    return sorted({segment for segments in rows for segment in segments})


def follower(key: str) -> ProfileFollower:
    """The registered follower `key` ("events", "workflow_runs", ...)."""
    found = profile_follower(key)
    if found is None:
        raise LookupError(f"No rows follow profiles as {key!r}: its app registers none.")
    return found


def profile_related_counts(*, profile_id: str, cap: int | None = None) -> dict[str, Count]:
    """Sessions and events of one profile, counted up to `cap` through the profile indexes."""
    cap = cap or RELATED_COUNT_CAP
    return {
        "sessions": bounded_count(Session.objects.filter(profile_id=profile_id), cap=cap),
        "events": bounded_count(_rows_of_profile("events", profile_id), cap=cap),
    }


def session_event_count(*, session_id: str, cap: int | None = None) -> Count:
    events = follower("events")
    rows = events.model.objects.filter(**{events.session_field: session_id})
    return bounded_count(rows, cap=cap or RELATED_COUNT_CAP)


def profile_timeline(
    *,
    profile_id: str,
    offset: int,
    limit: int,
    event_type: str = "",
    before: datetime | None = None,
) -> list:
    """The profile's events, newest first (through the (profile, time) index), of one type
    and from before a time when asked."""
    events = _rows_of_profile("events", profile_id)
    if event_type:
        events = events.filter(type=event_type)
    if before is not None:
        events = events.filter(time__lt=before)
    return list(
        events.order_by("-time", "-id").only(
            "id", "type", "time", "status", "session_id", "source_id", "properties"
        )[offset : offset + limit]
    )


def _rows_of_profile(key: str, profile_id: str) -> QuerySet:
    return follower(key).model.objects.filter(profile_id=profile_id)


# --- the retention purge --------------------------------------------------------------------

# Where a profile keeps what names a person, besides `primary_id`, `static_ids` (ids a client
# or an import chose) and `ids` (profiles merged into it: merges come from identification):
# any e-mail, any phone, anything under data.identifier, and the profile fields of the enabled
# identification points. A value is an identifier when it is a number or a non-empty string.
IDENTIFIER_SUBTREES = (
    ("data", ("contact", "email")),
    ("data", ("contact", "phone")),
    ("data", ("identifier",)),
)
_IDENTIFIER_VALUE = '? (@.type() == "number" || (@.type() == "string" && @ != ""))'


def _jsonpath(keys: tuple[str, ...], *, children: bool) -> str:
    quoted = "".join('."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in keys)
    return f"${quoted}{'.*' if children else ''} {_IDENTIFIER_VALUE}"


def _has_value(column: str, path: str) -> Func:
    return Func(F(column), Value(path), function="jsonb_path_exists", output_field=BooleanField())


def identified_condition() -> Q:
    """A profile that names a person (see IDENTIFIER_SUBTREES); its negation is anonymous.
    The jsonpaths are parameters, built from the identification points' plain keys."""
    condition = (Q(primary_id__isnull=False) & ~Q(primary_id="")) | ~Q(static_ids=[]) | ~Q(ids=[])
    paths = [(column, _jsonpath(keys, children=True)) for column, keys in IDENTIFIER_SUBTREES]
    for fields in IdentificationPoint.objects.filter(enabled=True).values_list("fields", flat=True):
        for pair in fields if isinstance(fields, list) else []:
            profile_path = str(pair.get("profile", "")).strip().removeprefix("profile@")
            column, *keys = profile_path.split(".")
            if column in ("data", "traits", "aux") and keys:
                paths.append((column, _jsonpath(tuple(keys), children=False)))
    for column, path in dict.fromkeys(paths):
        condition |= Q(_has_value(column, path))
    return condition


def anonymous_inactive_profiles(*, before: datetime) -> QuerySet[Profile]:
    """Profiles not updated since `before` (an update at exactly `before` stays) that name
    nobody (`identified_condition`) and have no events left (the events follower, through its
    (profile, time) index); oldest first through the (-updated) index."""
    events = follower("events")
    own_events = events.model.objects.filter(profile_id=OuterRef("pk"))
    return (
        Profile.objects.filter(updated__lt=before)
        .exclude(identified_condition())
        .exclude(Exists(own_events))
        .order_by("updated")
    )


def sessions_to_purge(*, before: datetime) -> QuerySet[Session]:
    """Sessions last seen before `before` (so ended: idle far longer than a visit) that no
    event points at any more (events go by their own retention, and a session's deletion
    would take its events with it); oldest first through the (-updated) index."""
    events = follower("events")
    session_events = events.model.objects.filter(**{events.session_field: OuterRef("pk")})
    return (
        Session.objects.filter(updated__lt=before)
        .exclude(Exists(session_events))
        .order_by("updated")
    )


# --- exports --------------------------------------------------------------------------------

# --since / --until of a profile export read one of these columns.
EXPORT_TIME_FIELDS = {"updated": "updated", "inserted": "created"}
EXPORT_CHUNK_SIZE = 5000


def segment_slug_find(name: str) -> str | None:
    """The slug of the segment named `name` (its name in any case, or its slug), or of a slug
    that profiles carry without a Segment row (added by a workflow action); else None."""
    slug = segment_slug(name)
    if not slug:
        return None
    found = Segment.objects.filter(Q(name__iexact=name.strip()) | Q(slug=slug)).first()
    if found is not None:
        return found.slug
    if Profile.objects.filter(segments__contains=[slug]).exists():
        return slug
    return None


def segment_slugs_known(*, limit: int = 20) -> list[str]:
    return list(Segment.objects.order_by("slug").values_list("slug", flat=True)[:limit])


def profiles_for_export(
    *,
    segment: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    time_field: str = "updated",
) -> QuerySet[Profile]:
    """Profiles in the segment (slug, through the GIN index), whose `time_field` ("updated",
    or "inserted": when the profile was created) is at or after `since` and before `until`."""
    profiles = Profile.objects.all()
    column = EXPORT_TIME_FIELDS[time_field]
    if segment is not None:
        profiles = profiles.filter(segments__contains=[segment])
    if since is not None:
        profiles = profiles.filter(**{f"{column}__gte": since})
    if until is not None:
        profiles = profiles.filter(**{f"{column}__lt": until})
    return profiles


def profile_documents_stream(
    profiles: QuerySet[Profile], *, chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[dict]:
    """The profiles' documents (profile_document's shape), in id order, a page at a time."""
    for values in values_stream(profiles, fields=("id", *DOCUMENT_FIELDS), chunk_size=chunk_size):
        yield profile_document_of(*values)


def profile_document_lines(
    profiles: QuerySet[Profile], *, chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[bytes]:
    """The same documents as JSON text that PostgreSQL builds (jsonb_build_object over the
    DOCUMENT_FIELDS columns), in id order: a plain JSON Lines export writes them as they come,
    with no decoding and encoding per row (bench/export.py: several times faster). JSON-equal
    to `profile_documents_stream`'s; the text is PostgreSQL's (its key order, a space after
    ':' and ',')."""
    document = Cast(JSONObject(id="id", **{field: field for field in DOCUMENT_FIELDS}), TextField())
    rows = profiles.annotate(export_document=document)
    for _, text in values_stream(rows, fields=("id", "export_document"), chunk_size=chunk_size):
        yield text.encode()


# --- segment previews ---------------------------------------------------------------------

# Profiles a preview evaluates in Python when its condition does not translate to SQL
# (about 0.3 s at 30 µs per profile document and condition).
PREVIEW_SAMPLE = 10_000
# A count in the database (or a path lookup) that takes longer gives up: the preview falls
# back to the sample, a path check to "not known".
PREVIEW_TIMEOUT_MS = 5_000
# Document keys held in columns of their own: every profile has them.
_COLUMN_KEYS = ("id", "primary_id", "ids", "active", "segments")


@dataclass(frozen=True)
class SegmentPreview:
    """How many profiles a condition matches: counted in the database over all of them, or
    evaluated in Python on the first `evaluated` profiles by id (a sample when fewer than
    `total`)."""

    matched: int
    evaluated: int
    total: Count
    in_database: bool
    # Why a sample: the condition does not translate to SQL, or counting took too long.
    too_slow: bool = False

    @property
    def sample(self) -> bool:
        return not self.in_database and not (
            self.total.exact and self.evaluated >= self.total.value
        )

    @property
    def text(self) -> str:
        if not self.sample:
            return f"Matches {self.matched:,} of {self.total.label} profiles."
        share = self.matched / self.evaluated if self.evaluated else 0
        why = (
            "counting all of them in the database took too long"
            if self.too_slow
            else "this condition uses something the database cannot count exactly (a function, "
            "BETWEEN, CONTAINS, IN, a list index)"
        )
        return (
            f"Matches {self.matched:,} of a sample of {self.evaluated:,} profiles "
            f"({share:.1%}), out of {self.total.label} profiles. Only a sample: {why}, so it "
            "was evaluated here on the first profiles by id; saving evaluates it on all of them."
        )


def segment_preview(*, condition: str, sample: int = PREVIEW_SAMPLE) -> SegmentPreview:
    """How many stored profiles `condition` matches now (see SegmentPreview). Raises the
    notation's NotationError (ConditionSyntaxError, with its column) for a condition that
    does not parse."""
    compiled = notation.compile_condition(condition)
    total = bounded_count(Profile.objects.all(), cap=100_000)
    translated = condition_sql(condition)
    too_slow = False
    if translated is not None:
        where, params = translated
        try:
            with statement_timeout(PREVIEW_TIMEOUT_MS), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*) FROM {Profile._meta.db_table} WHERE {where}", params
                )
                matched = cursor.fetchone()[0]
            if not total.exact:
                return SegmentPreview(matched, matched, total, in_database=True)
            return SegmentPreview(matched, total.value, total, in_database=True)
        except OperationalError:
            too_slow = True  # a sample instead
    rows = Profile.objects.order_by("pk").values_list("pk", *DOCUMENT_FIELDS)[:sample]
    matched = evaluated = 0
    now = timezone.now()
    for row in rows.iterator(chunk_size=1000):
        evaluated += 1
        history = profile_history(profile_id=row[0], now=now) if compiled.uses_history else None
        try:
            if compiled.evaluate({"profile": profile_document_of(*row)}, history=history):
                matched += 1
        except notation.NotationError:
            pass  # does not hold on this profile (as in segmentation)
    return SegmentPreview(matched, evaluated, total, in_database=False, too_slow=too_slow)


def profile_paths_unheld(*, condition: str) -> list[str]:
    """The `profile@` references of `condition` that no stored profile has (a typo, or a field
    nothing fills): one statement with an EXISTS per path in a JSON column, each stopping at
    the first profile that holds it. A check that takes too long warns of nothing. Raises
    NotationError."""
    unheld: list[str] = []
    checked: list[tuple[str, str, list[str]]] = []
    for text in notation.references(condition):
        reference = notation.parse_reference(text)
        if reference is None or reference.source != "profile" or not reference.keys:
            continue
        keys = [name for name, _ in reference.keys]
        if keys[0] in _COLUMN_KEYS or (keys[0] in PROFILE_JSON_COLUMNS and len(keys) == 1):
            continue
        if keys[0] not in PROFILE_JSON_COLUMNS:
            unheld.append(text)
        else:
            checked.append((text, connection.ops.quote_name(keys[0]), keys[1:]))
    if checked:
        table = Profile._meta.db_table
        tests = ", ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE {column} #> %s::text[] IS NOT NULL)"
            for _, column, _ in checked
        )
        try:
            with statement_timeout(PREVIEW_TIMEOUT_MS), connection.cursor() as cursor:
                cursor.execute(f"SELECT {tests}", [path for _, _, path in checked])
                held = cursor.fetchone()
        except OperationalError:
            held = [True] * len(checked)
        unheld.extend(text for (text, _, _), found in zip(checked, held, strict=True) if not found)
    order = {text: index for index, text in enumerate(notation.references(condition))}
    return sorted(unheld, key=order.__getitem__)


def profile_field_paths(*, limit: int = RECENT_PROFILES_FOR_PATHS) -> list[JsonPath]:
    """The paths of the documents of the `limit` most recently updated profiles (through the
    profile_updated_id_idx index), with their types, the most common first."""
    document = JSONObject(id="id", **{field: field for field in DOCUMENT_FIELDS})
    sample = (
        Profile.objects.order_by("-updated", "id")
        .annotate(doc=document, rank=Window(RowNumber(), order_by=(F("updated").desc(), "id")))
        .values("doc", "rank")[:limit]
    )
    return json_paths(sample)


def consent_types_enabled(*, ids: list[str] | None = None) -> list[ConsentType]:
    """The consent types a consent bar offers: the enabled ones (of `ids`, when given), in
    the admin's order."""
    types = ConsentType.objects.filter(enabled=True)
    if ids:
        types = types.filter(id__in=ids)
    return list(types)


class ConditionNotSearchable(ValueError):
    """A condition that parses but that the database cannot evaluate (the segment preview
    samples those instead)."""


_NAMED_PARAM = re.compile(r"%\((p\d+)\)s")


def profiles_matching(condition: str) -> QuerySet[Profile]:
    """The profiles where a logic-notation condition holds, as a queryset evaluated in the
    database. Raises the notation's NotationError for a condition that does not parse and
    ConditionNotSearchable for one that does not translate to SQL."""
    notation.compile_condition(condition)
    translated = condition_sql(condition)
    if translated is None:
        raise ConditionNotSearchable(
            "This condition cannot be searched in the database (it uses a function, BETWEEN, "
            "CONTAINS, IN or a list index); use comparisons, EXISTS and AND/OR/NOT."
        )
    where, named = translated
    # RawSQL takes positional parameters; the translation names each one once, in order.
    params = [named[name] for name in _NAMED_PARAM.findall(where)]
    return Profile.objects.filter(
        RawSQL(_NAMED_PARAM.sub("%s", where), params, output_field=BooleanField())
    )


def profile_consent_history(*, profile_id: str, limit: int) -> list[ConsentChange]:
    """The latest grants and revokes of a profile's consents, newest first (through the
    (profile, -at, -id) index)."""
    return list(ConsentChange.objects.filter(profile_id=profile_id).order_by("-at", "-id")[:limit])


def consent_type_names(ids: list[str]) -> dict[str, str]:
    """Consent type id -> name, for the ids given (deleted types are left out)."""
    if not ids:
        return {}
    return dict(ConsentType.objects.filter(pk__in=ids).values_list("pk", "name"))


def entity_find(*, entity_id: str, entity_type: str, profile_id: str | None) -> Entity | None:
    """The entity with this id and type that belongs to `profile_id` (None: to no profile)."""
    return Entity.objects.filter(pk=entity_id, type=entity_type, profile_id=profile_id).first()


def profile_entities(*, profile_id: str, limit: int) -> list[Entity]:
    """A profile's entities, by type then latest change first (the (profile, type) index)."""
    return list(Entity.objects.filter(profile_id=profile_id).order_by("type", "-updated")[:limit])


def entity_types(limit: int = 200) -> list[str]:
    """The entity types in use, for the admin's filter (a loose index scan over the
    (type, -updated) index: one probe per type, not a pass over every row)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE types(type) AS (
                (SELECT type FROM {Entity._meta.db_table} ORDER BY type LIMIT 1)
                UNION ALL
                SELECT (SELECT e.type FROM {Entity._meta.db_table} e
                        WHERE e.type > types.type ORDER BY e.type LIMIT 1)
                FROM types WHERE types.type IS NOT NULL
            )
            SELECT type FROM types WHERE type IS NOT NULL LIMIT %s
            """,
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


# -- workflow look-ups (apps.workflows.actions.history) ----------------------------------------

# A look-up that finds more than one profile is refused, so two are enough to know.
PROFILE_BY_FIELD_LIMIT = 2


def profiles_by_field(*, field: str, value) -> list[Profile]:
    """Up to PROFILE_BY_FIELD_LIMIT active profiles whose `field` equals `value`: `id` (the id
    or a merged one), or a dot path into a profile JSON column (`data.contact.email.main`,
    `traits.customer_no`). E-mails compare case-insensitively, through their index."""
    if field == "id":
        profile = profile_find(profile_id=str(value))
        return [profile] if profile is not None and profile.active else []
    column, *keys = field.split(".")
    if column not in PROFILE_JSON_COLUMNS or not keys:
        raise ValueError(f"{field!r} is not a profile field")
    lookup = "__".join([column, *keys])
    profiles = Profile.objects.filter(active=True)
    if field == "data.contact.email.main" and isinstance(value, str):
        profiles = profiles.annotate(_email=Lower(KT(lookup))).filter(_email=value.lower())
    else:
        profiles = profiles.filter(**{lookup: value})
    return list(profiles.order_by("id")[:PROFILE_BY_FIELD_LIMIT])


def session_previous(*, profile_id: str, current_session_id: str | None, offset: int):
    """The profile's `offset`-th session before the current one (1: the one just before),
    newest first by creation, or None."""
    sessions = Session.objects.filter(profile_id=profile_id)
    if current_session_id:
        sessions = sessions.exclude(pk=current_session_id)
    return sessions.order_by("-created", "-id")[offset - 1 : offset].first()
