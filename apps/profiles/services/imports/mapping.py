"""`--mapping FILE`: an object template (apps.notation.render_template) that builds the
profile fields of each row, so that a file with its own column names (a CRM export) is
imported as it is.

The row is the source `row@`: `row@Email` is the row's column "Email", `row@["First name"]`
a column with a space; `payload@` is the same source under its notation name. Keys are field
paths, dotted or nested; a key ending in `?` is left out when its column is missing or empty:

    {"data.contact.email.main": "row@Email",
     "data.pii": {"firstname": "row@[\\"First name\\"]", "lastname": "row@Surname"},
     "traits.plan": "row@Plan", "traits.source": "crm"}

A string that is not a reference is a literal (`"crm"` above); backticks cast a value
(`` "`row@Vip`" `` turns "true" into true), though field types already convert values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from apps.notation import NotationError, parse_reference, render_template
from apps.profiles.services.imports.fields import Path, RowError, field_kind, flatten
from apps.profiles.services.imports.readers import ImportFileError

ROW_SOURCE = "row@"
_NOTATION_SOURCE = "payload@"


class Mapping:
    def __init__(self, template: dict, *, file_name: str) -> None:
        self.template = _translated(template)
        self.file_name = file_name

    @classmethod
    def load(cls, path: str) -> Mapping:
        try:
            with open(path, "rb") as handle:
                template = orjson.loads(handle.read())
        except OSError as error:
            raise ImportFileError(f"Cannot open the mapping {path}: {error.strerror}.") from None
        except orjson.JSONDecodeError as error:
            raise ImportFileError(f"The mapping {path} is not valid JSON: {error}.") from None
        if not isinstance(template, dict) or not template:
            raise ImportFileError(
                f"The mapping {path} must be a JSON object of field paths to row values, e.g. "
                '{"data.contact.email.main": "row@Email", "traits.plan": "row@Plan"}.'
            )
        mapping = cls(template, file_name=path)
        mapping.check_fields()
        return mapping

    def check_fields(self, types: dict[Path, str] | None = None) -> None:
        """Every key of the template names a field an import may set."""
        try:
            for path in flatten(_keys_only(self.template), split_keys=True):
                field_kind(path, types or {})
                for key in path:
                    parse_reference("payload@" + key)
        except (RowError, NotationError) as error:
            raise ImportFileError(f"The mapping {self.file_name}: {error}.") from None

    def columns(self) -> list[str]:
        """The row columns the template reads (outside optional `?` keys)."""
        found: list[str] = []
        _columns(self.template, found, optional=False)
        return list(dict.fromkeys(found))

    def render(self, row: dict) -> dict[Path, Any]:
        try:
            rendered = render_template(self.template, {"payload": row}, default=None)
        except NotationError as error:
            raise RowError(f"the mapping cannot be applied: {error}") from None
        return flatten(rendered, split_keys=True)


def _translated(node: Any) -> Any:
    if isinstance(node, str):
        if node.startswith(ROW_SOURCE):
            return _NOTATION_SOURCE + node[len(ROW_SOURCE) :]
        if node.startswith("`" + ROW_SOURCE):
            return "`" + _NOTATION_SOURCE + node[len(ROW_SOURCE) + 1 :]
        return node
    if isinstance(node, dict):
        return {key: _translated(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_translated(item) for item in node]
    return node


def _keys_only(node: dict) -> dict:
    """The template's key structure with every leaf replaced by None (for checking paths)."""
    return {
        key.removesuffix("?"): _keys_only(value) if isinstance(value, dict) else None
        for key, value in node.items()
    }


def _columns(node: Any, found: list[str], *, optional: bool) -> None:
    if isinstance(node, str):
        text = node[1:-1] if len(node) > 1 and node[0] == node[-1] == "`" else node
        try:
            reference = parse_reference(text)
        except NotationError:
            return
        if (
            not optional
            and reference is not None
            and reference.source == "payload"
            and reference.keys
        ):
            found.append(reference.keys[0][0])
    elif isinstance(node, dict):
        for key, value in node.items():
            _columns(value, found, optional=optional or str(key).endswith("?"))
    elif isinstance(node, Iterable):
        for item in node:
            _columns(item, found, optional=optional)
