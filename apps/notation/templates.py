"""Object templates (JSON values whose leaf strings are references) and string templates."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from .dot import parse_reference, resolve
from .errors import MissingReferenceError


class _Raise:
    def __repr__(self) -> str:
        return "RAISE"


RAISE: Final = _Raise()
"""Default for `default=`: a missing reference raises MissingReferenceError."""

_DROP: Final = object()


def render_template(
    template: Any,
    data: Mapping[str, Any] | None,
    *,
    default: Any = RAISE,
    include_none: bool = True,
) -> Any:
    """Render an object template: every string leaf is resolved (references read, literals kept),
    keeping the shape of dicts and lists.

    - A key ending in `?` is optional: missing references inside its value are dropped (the key
      itself when the value is one missing reference, list items otherwise), and the `?` is
      removed from the output key. `?` wins over `default`.
    - Elsewhere a missing reference raises MissingReferenceError, or becomes `default` if given.
    - `include_none=False` drops None values from dicts and lists.

    Resolved values are the objects in `data`, not copies.
    """
    renderer = _TemplateRenderer(data, default, include_none)
    result = renderer.render(template, optional=False)
    return None if result is _DROP else result


class _TemplateRenderer:
    def __init__(self, data: Mapping[str, Any] | None, default: Any, include_none: bool) -> None:
        self.data = data
        self.default = default
        self.include_none = include_none

    def render(self, node: Any, *, optional: bool) -> Any:
        if isinstance(node, str):
            try:
                return resolve(node, self.data)
            except MissingReferenceError:
                if optional:
                    return _DROP
                if self.default is RAISE:
                    raise
                return self.default
        if isinstance(node, Mapping):
            rendered: dict[Any, Any] = {}
            for key, value in node.items():
                key_is_optional = isinstance(key, str) and key.endswith("?")
                output_key = key[:-1] if key_is_optional else key
                result = self.render(value, optional=optional or key_is_optional)
                if self._keeps(result):
                    rendered[output_key] = result
            return rendered
        if isinstance(node, list | tuple):
            items = (self.render(item, optional=optional) for item in node)
            return [item for item in items if self._keeps(item)]
        return node

    def _keeps(self, value: Any) -> bool:
        return value is not _DROP and (self.include_none or value is not None)


_PLACEHOLDER: Final = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)


def render_string(text: str, data: Mapping[str, Any] | None, *, default: Any = RAISE) -> str:
    """Replace each `{{source@path}}` with the value it references.

    Strings are inserted as they are, None as "", datetimes in ISO 8601 and other values as JSON.
    Placeholders that hold no reference are left untouched. A missing reference raises
    MissingReferenceError unless `default` is given.
    """

    def replace(match: re.Match[str]) -> str:
        expression = match[1]
        inner = expression[1:-1] if expression[:1] == expression[-1:] == "`" else expression
        if parse_reference(inner) is None:
            return match[0]
        try:
            value = resolve(expression, data)
        except MissingReferenceError:
            if default is RAISE:
                raise
            value = default
        return to_text(value)

    return _PLACEHOLDER.sub(replace, text)


def template_placeholders(text: str) -> list[tuple[str, int]]:
    """The `{{...}}` placeholders of a string template: (expression inside, 0-based offset of
    its `{{`), in order."""
    return [(match[1], match.start()) for match in _PLACEHOLDER.finditer(text)]


def to_text(value: Any) -> str:
    """How a value reads inside a string template."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
