"""The admin's profile search: one box for every way a marketer looks a person up.

- `key=value` (plan=pro, address.city=Warsaw, orders=42) finds profiles whose trait has that
  value: containment (`traits @> {...}`) through the GIN index on traits. A value that reads as
  a number or true/false matches the typed value and the text alike (42 and "42"); quotes
  ("42") keep it text only.
- Anything else finds, any of:
  - the profile id or an id merged into it (the primary key, the GIN index on `ids`);
  - the e-mail or its beginning, case-insensitive (ann@, ann.smith: lower(e-mail) with
    text_pattern_ops, migration 0008);
  - a part of the name: first name, last name or "first last", case-insensitive, from
    NAME_MIN characters (trigram index over cdp_profile_name(data), migration 0010);
  - a phone number in any format, or its last digits, from PHONE_MIN digits: "+48 600-100-200"
    and "600100200" both find "48600100200" (trigram index over the digits of every
    data.contact.phone.* value, cdp_profile_phone_digits(data));
  - a value under data.identifier (a customer id, a loyalty card), exactly, as text or as
    the number it reads as (GIN over cdp_profile_identifiers(data)).

Every branch is an index lookup, so PostgreSQL combines them with a BitmapOr and never reads
the whole table: tests/profiles/test_profile_search.py asserts each index in EXPLAIN. A name
or a phone shorter than the minimum gives trigrams too few to narrow anything down, so those
branches are left out below it (the others still apply). A search keeps at most SEARCH_CAP
matches (`profile_search` says why it takes two steps). Measured on 200,000 generated
profiles: every form under 150 ms, where one query with the list's order took 2 s.
"""

import re
from typing import Any

from django.db import models
from django.db.models import F, Func, JSONField, Q, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

# A search keeps this many matches (the list shows them newest first); a term that finds more
# is too broad to read through anyway, and the admin says so.
SEARCH_CAP = 1000
NAME_MIN = 3
PHONE_MIN = 6
TRAIT_TERM = re.compile(r"^(?P<key>[A-Za-z_][\w.-]{0,99})=(?P<value>.+)$")
PHONE_TERM = re.compile(r"^\+?[\d\s()./-]+$")
_INTEGER = re.compile(r"^-?\d{1,18}$")
_DECIMAL = re.compile(r"^-?\d{1,18}\.\d{1,18}$")

# The expressions of migration 0010's indexes, called the same way so the planner uses them.
NAME = Func(F("data"), function="cdp_profile_name", output_field=TextField())
PHONE_DIGITS = Func(F("data"), function="cdp_profile_phone_digits", output_field=TextField())
IDENTIFIERS = Func(F("data"), function="cdp_profile_identifiers", output_field=JSONField())


def profile_search(queryset, term: str, *, cap: int = SEARCH_CAP) -> tuple[models.QuerySet, bool]:
    """`queryset` narrowed to the profiles the search box term finds (see the module doc), and
    whether more than `cap` matched (then `cap` of them are kept).

    Two steps, on purpose: first the ids of the matches (`profile_matches`, at most cap + 1,
    no order: the indexes above), then the caller's query over those ids. In
    one query with the list's ORDER BY updated LIMIT 100, PostgreSQL walks the whole
    (-updated) index filtering rows whenever it overestimates the matches (a GIN containment
    on `ids` is estimated at 0.5% of the table): 2 s at 200,000 profiles for a name nobody has.
    """
    ids = list(profile_matches(queryset, term).values_list("pk", flat=True)[: cap + 1])
    return queryset.filter(pk__in=ids[:cap]), len(ids) > cap


def profile_matches(queryset, term: str) -> models.QuerySet:
    """The profiles of `queryset` the term finds, unordered: each branch an index lookup."""
    # PostgreSQL text cannot hold NUL: a pasted one would fail the query instead of the match.
    term = term.replace("\x00", "").strip()
    queryset = queryset.order_by()
    match = TRAIT_TERM.match(term)
    if match:
        return queryset.filter(trait_condition(match["key"], match["value"]))
    return queryset.alias(
        search_email=Lower(KT("data__contact__email__main")),
        search_name=NAME,
        search_phone=PHONE_DIGITS,
        search_identifiers=IDENTIFIERS,
    ).filter(_any_condition(term))


def trait_condition(key: str, raw: str) -> Q:
    """Profiles whose trait at the dot path `key` holds `raw` as any of its typed values
    (typed_values), through the traits GIN index (containment)."""
    condition = Q()
    for value in typed_values(raw):
        document: Any = value
        for part in reversed(key.split(".")):
            document = {part: document}
        condition |= Q(traits__contains=document)
    return condition


def typed_values(raw: str) -> list:
    """The values a typed text stands for: "42" -> ["42", 42], "true" -> ["true", True],
    '"42"' (quoted) -> ["42"]."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return [raw[1:-1]]
    if raw in ("true", "false"):
        return [raw, raw == "true"]
    if _INTEGER.match(raw):
        return [raw, int(raw)]
    if _DECIMAL.match(raw):
        return [raw, float(raw)]
    return [raw]


def _any_condition(term: str) -> Q:
    condition = (
        Q(pk=term)
        | Q(ids__contains=[term])
        | Q(search_email__startswith=term.lower())
        | Q(search_identifiers__contains=[term])
    )
    if _INTEGER.match(term):
        condition |= Q(search_identifiers__contains=[int(term)])
    name = " ".join(term.lower().split())
    if len(name) >= NAME_MIN:
        condition |= Q(search_name__contains=name)
    digits = re.sub(r"\D", "", term)
    if PHONE_TERM.match(term) and len(digits) >= PHONE_MIN:
        condition |= Q(search_phone__contains=digits)
    return condition
