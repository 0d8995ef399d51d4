"""The notation shared by workflows, segments, destinations and redirects (Tracardi-compatible).

Pure Python, no Django imports. See `tests/notation/cases/` for the conformance corpus.

- Dot notation: `resolve("profile@data.contact.email.main", data)`,
  `assign(reference, value, data)`.
- Conditions: `evaluate('profile@stats.visits > 3 AND event@type == "purchase"', data)`;
  `compile_condition(text)` returns a cached `Condition` whose `.evaluate(data)` does no parsing.
- Object templates:
  `render_template({"email": "profile@data.contact.email.main", "id?": ...}, data)`.
- Aggregates over the profile's stored events in conditions:
  `count(events type "purchase" in last 7 days) > 2`, evaluated with
  `evaluate(text, data, history=provider)` (see history.py for their syntax and meaning).
- String templates: `render_string("Hello {{profile@data.pii.firstname}}", data)`.

`data` maps sources (`profile`, `event`, `session`, `payload`, `flow`, `memory`) to plain
JSON-like values. Every error is a `NotationError`.
"""

from .conditions import (
    Condition,
    compile_condition,
    condition_cache_clear,
    condition_cache_info,
    evaluate,
    parse,
    references,
    validate,
)
from .dot import (
    MISSING,
    SOURCES,
    Reference,
    assign,
    cast_value,
    make_reference,
    parse_reference,
    resolve,
)
from .errors import (
    AssignmentError,
    ConditionSyntaxError,
    EvaluationError,
    InvalidReferenceError,
    MissingReferenceError,
    NotationError,
)
from .functions import FUNCTIONS
from .history import EventListHistory, HistoryProvider, HistoryQuery
from .templates import RAISE, render_string, render_template, template_placeholders

__all__ = [
    "FUNCTIONS",
    "MISSING",
    "RAISE",
    "SOURCES",
    "AssignmentError",
    "Condition",
    "ConditionSyntaxError",
    "EvaluationError",
    "EventListHistory",
    "HistoryProvider",
    "HistoryQuery",
    "InvalidReferenceError",
    "MissingReferenceError",
    "NotationError",
    "Reference",
    "assign",
    "cast_value",
    "compile_condition",
    "condition_cache_clear",
    "condition_cache_info",
    "evaluate",
    "make_reference",
    "parse",
    "parse_reference",
    "references",
    "render_string",
    "render_template",
    "resolve",
    "template_placeholders",
    "validate",
]
