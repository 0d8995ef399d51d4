"""The columns of an import file as the admin shows them: the profile fields a column may go
to (with labels a person reads, grouped), the field suggested from a column's name, the
importer's Mapping built from the choices, and a preview of the first rows as they would be
stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.utils.text import slugify

from apps.profiles.services.imports.fields import (
    CLEAR,
    SCHEMA,
    Path,
    RowError,
    dotted,
    field_kind,
    parse_path,
    typed_row,
)
from apps.profiles.services.imports.mapping import Mapping
from apps.profiles.services.imports.readers import ImportFileError, InputFile, open_records
from apps.profiles.validation import IDENTIFIER_ROOTS

IGNORE = ""
PREVIEW_ROWS = 10
# JSON rows: the keys of this many first rows are the columns offered.
COLUMN_SAMPLE_ROWS = 100

_GROUPS = {
    "pii": "Person",
    "contact": "Contact",
    "identifier": "Identifiers",
    "devices": "Devices",
    "media": "Media",
    "preferences": "Preferences",
    "job": "Job",
    "loyalty": "Loyalty",
    "metrics": "Metrics",
}
_LABELS = {
    "id": "Profile id",
    "primary_id": "Primary id",
    "active": "Active (true/false)",
    "data.pii.firstname": "First name",
    "data.pii.lastname": "Last name",
    "data.pii.display_name": "Display name (full name)",
    "data.pii.birthday": "Birthday",
    "data.pii.language.native": "Native language",
    "data.pii.language.spoken": "Spoken languages (list)",
    "data.pii.education.level": "Education level",
    "data.pii.civil.status": "Civil status",
    "data.contact.email.main": "E-mail address",
    "data.contact.email.business": "E-mail address (business)",
    "data.contact.email.private": "E-mail address (private)",
    "data.contact.phone.main": "Phone",
    "data.contact.phone.business": "Phone (business)",
    "data.contact.phone.mobile": "Mobile phone",
    "data.contact.phone.whatsapp": "WhatsApp number",
    "data.contact.address.town": "Address: town / city",
    "data.contact.address.postcode": "Address: postcode / ZIP",
    "data.identifier.id": "Customer id",
    "data.job.company.name": "Company",
    "data.job.company.size": "Company size",
    "data.job.position": "Job title",
    "data.metrics.ltv": "Lifetime value",
}
# Where a field's last key alone would not say what it is.
_PREFIXES = {
    ("data", "contact", "address"): "Address: ",
    ("data", "contact", "app"): "Messenger: ",
    ("data", "media", "social"): "Social profile: ",
    ("data", "loyalty", "card"): "Loyalty card: ",
    ("data", "loyalty"): "Loyalty ",
    ("data", "job", "company"): "Company ",
    ("data", "job"): "Job ",
    ("data", "identifier"): "Identifier: ",
    ("data", "devices"): "Devices: ",
    ("data", "preferences"): "Preferred ",
    ("data", "metrics"): "Metrics: ",
    ("data", "media"): "Media: ",
}
_WORDS = {"ltv": "lifetime value", "pii": "person", "ltcosc": "lifetime count of shopping carts"}

# Column names (lower case, words separated by one space) and the field they usually hold.
_SYNONYMS = {
    "data.contact.email.main": (
        "email",
        "e mail",
        "email address",
        "e mail address",
        "mail",
        "emailaddress",
    ),
    "data.pii.firstname": ("first name", "firstname", "given name", "forename", "first"),
    "data.pii.lastname": ("last name", "lastname", "surname", "family name", "last"),
    "data.pii.display_name": ("name", "full name", "fullname", "display name"),
    "data.contact.phone.main": ("phone", "phone number", "telephone", "tel", "phone no"),
    "data.contact.phone.mobile": ("mobile", "mobile phone", "cell", "cell phone", "mobile number"),
    "data.pii.birthday": ("birthday", "birth date", "date of birth", "dob", "birthdate"),
    "data.pii.gender": ("gender", "sex"),
    "data.pii.language.native": ("language", "native language"),
    "data.contact.address.town": ("city", "town"),
    "data.contact.address.country": ("country",),
    "data.contact.address.postcode": ("zip", "zip code", "zipcode", "postcode", "postal code"),
    "data.contact.address.street": ("street", "address", "street address"),
    "data.job.company.name": ("company", "company name", "organisation", "organization"),
    "data.job.position": ("job title", "position", "title", "job"),
    "data.identifier.id": ("customer id", "customer number", "customer no", "client id"),
    "id": ("id", "profile id", "profileid"),
}
_SUGGESTED = {name: path for path, names in _SYNONYMS.items() for name in names}


def field_label(path: str) -> str:
    """A person's name for a field path: "data.contact.email.main" -> "E-mail address"."""
    if path in _LABELS:
        return _LABELS[path]
    keys = parse_path(path)
    if keys[0] == "traits":
        return "Trait: " + ".".join(keys[1:])
    if keys[0] == "aux":
        return "Aux: " + ".".join(keys[1:])
    if keys[0] == "interests":
        return "Interest: " + ".".join(keys[1:])
    prefix = ""
    shown = keys[2:] if keys[0] == "data" else keys
    for start, name in _PREFIXES.items():
        if keys[: len(start)] == start and len(keys) > len(start):
            prefix, shown = name, keys[len(start) :]
            break
    words = [_WORDS.get(key, key.replace("_", " ")) for key in shown]
    if len(words) > 1 and words[-1] == "main":
        words = words[:-1]
    text = " ".join(words)
    if SCHEMA.get(keys) == "list":
        text += " (list)"
    text = prefix + text
    return text[:1].upper() + text[1:]


def field_group(path: str) -> str:
    keys = parse_path(path)
    if keys[0] == "data" and len(keys) > 1:
        return _GROUPS.get(keys[1], "Other")
    if keys[0] in ("traits", "aux", "interests"):
        return "Traits and other fields"
    return "Profile"


def field_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields of the profile schema a column may go to, grouped, with labels."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for path in ("id", "primary_id", "active", *(dotted(p) for p in SCHEMA if p[0] == "data")):
        groups.setdefault(field_group(path), []).append((path, field_label(path)))
    return [(group, sorted(choices, key=lambda item: item[1])) for group, choices in groups.items()]


def column_words(column: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", column.lower()).split())


def trait_for(column: str) -> str | None:
    """The trait a column would become ("Loyalty tier" -> "traits.loyalty_tier")."""
    slug = slugify(column).replace("-", "_")
    return f"traits.{slug}" if slug else None


def suggested_field(column: str) -> str:
    """The field a column probably holds, from its name; a trait for an unknown name; IGNORE
    for a name with nothing to make a trait of."""
    words = column_words(column)
    if words in _SUGGESTED:
        return _SUGGESTED[words]
    if words.replace(" ", "") in _SUGGESTED:
        return _SUGGESTED[words.replace(" ", "")]
    try:
        path = parse_path(column)
        field_kind(path, {})
    except RowError:
        pass
    else:
        return dotted(path)
    return trait_for(column) or IGNORE


def suggested_mapping(columns: list[str]) -> dict[str, str]:
    """{column: suggested field}; a field suggested for two columns goes to the first only
    (the others become traits)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        path = suggested_field(column)
        if path in taken:
            path = trait_for(column) or IGNORE
            if path in taken:
                path = IGNORE
        if path:
            taken.add(path)
        mapping[column] = path
    return mapping


def suggested_match(mapping: dict[str, str]) -> str:
    targets = set(mapping.values())
    if "id" in targets:
        return "id"
    if "data.contact.email.main" in targets:
        return "data.contact.email.main"
    return "id"


def match_choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    """How rows may find their profile: by id, or by a mapped identifier field."""
    choices = [("id", "Profile id (rows without one create new profiles)")]
    for path in dict.fromkeys(mapping.values()):
        if path and path != "id" and parse_path(path)[0] in IDENTIFIER_ROOTS:
            keys = parse_path(path)
            if keys[0] == "data" and SCHEMA.get(keys) in ("list",):
                continue
            choices.append((path, f"{field_label(path)} (update the profile that has it)"))
    return choices


def mapping_errors(mapping: dict[str, str]) -> list[str]:
    """What is wrong with a column mapping, in words; empty when it can be imported."""
    errors = []
    targets: dict[str, list[str]] = {}
    for column, path in mapping.items():
        if not path:
            continue
        try:
            field_kind(parse_path(path), {})
        except RowError as error:
            errors.append(f"{column}: {error}")
            continue
        targets.setdefault(dotted(parse_path(path)), []).append(column)
    for path, columns in targets.items():
        if len(columns) > 1:
            errors.append(
                f"{' and '.join(columns)} all go to {field_label(path)}; choose one of them "
                "and set the others to another field or to “Ignore this column”."
            )
    if not targets:
        errors.append("No column is imported: choose a profile field for at least one column.")
    return errors


def importer_mapping(mapping: dict[str, str], *, fmt: str) -> Mapping:
    """The importer's object template: {field: row@["column"]}. For JSON rows a missing key
    leaves the field alone (a `?` key), as a missing column would."""
    optional = "" if fmt == "csv" else "?"
    template = {
        f"{path}{optional}": 'row@["' + _escaped(column) + '"]'
        for column, path in mapping.items()
        if path
    }
    return Mapping(template, file_name="the column mapping")


def _escaped(column: str) -> str:
    return column.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(slots=True)
class PreviewRow:
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def preview_rows(
    input_file: InputFile,
    *,
    fmt: str,
    mapping: dict[str, str],
    clear_empty: bool,
    limit: int = PREVIEW_ROWS,
) -> list[PreviewRow]:
    """The first `limit` rows as the import would store them ({field: value shown}), or each
    row's reason to be skipped. Nothing is written."""
    template = importer_mapping(mapping, fmt=fmt)
    _, records = open_records(input_file, fmt)
    kinds: dict[Path, str] = {}
    rows = []
    for record in records:
        if len(rows) >= limit:
            break
        if record.error is not None:
            rows.append(PreviewRow(line=record.line, error=record.error))
            continue
        try:
            typed = typed_row(
                template.render(record.values),
                types={},
                clear_empty=clear_empty,
                from_text=fmt == "csv",
                kinds=kinds,
            )
        except RowError as error:
            rows.append(PreviewRow(line=record.line, error=str(error)))
            continue
        rows.append(
            PreviewRow(
                line=record.line,
                values={dotted(path): _shown(value) for path, value in typed.items()},
            )
        )
    return rows


def _shown(value: Any) -> Any:
    if value is CLEAR:
        return "(cleared)"
    return value


def file_columns(input_file: InputFile, fmt: str) -> list[str]:
    """The CSV header, or the keys of the first JSON rows in order of appearance. Raises
    ImportFileError for a file that cannot be imported (with what to do about it)."""
    header, records = open_records(input_file, fmt)
    if header is not None:
        looks_like_data = [
            name for name in header if "@" in name or name.strip("-.+ ").replace(".", "").isdigit()
        ]
        if looks_like_data:
            raise ImportFileError(
                f"The first line of {input_file.name} looks like data ({looks_like_data[0]}), "
                "not column names: add a header line naming the columns (e.g. Email,First "
                "name,Plan) and upload the file again."
            )
        return header
    columns: dict[str, None] = {}
    for number, record in enumerate(records):
        if number >= COLUMN_SAMPLE_ROWS:
            break
        if record.values is not None:
            columns.update(dict.fromkeys(str(key) for key in record.values))
    if not columns:
        raise ImportFileError(
            f"None of the first rows of {input_file.name} is a JSON object with fields: "
            "there are no columns to import."
        )
    return list(columns)


def column_samples(input_file: InputFile, fmt: str, *, limit: int = 3) -> dict[str, list[str]]:
    """{column: its first non-empty values, as read} from the first rows of the file."""
    _, records = open_records(input_file, fmt)
    samples: dict[str, list[str]] = {}
    for number, record in enumerate(records):
        if number >= PREVIEW_ROWS:
            break
        for column, value in (record.values or {}).items():
            if value is None or value == "" or len(samples.setdefault(str(column), [])) >= limit:
                continue
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            samples[str(column)].append(text if len(text) <= 40 else text[:39] + "…")
    return samples
