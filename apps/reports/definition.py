"""A report's definition as SQL: fields, parameters, the filter, the window and the metric.

A field is a plain column of the subject (`type`, `source`) or a dot path into one of its JSON
columns (`properties.country`). A parameter's value enters the filter as a quoted notation
literal (a JSON string, a number, true/false), so it can never become notation or SQL; the
filter then translates to SQL through apps.profiles.segment_sql, whose constants and paths are
query parameters.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apps.notation.errors import NotationError
from apps.profiles.segment_sql import condition_sql
from apps.reports.subjects import SUBJECTS, Subject

PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
METRICS = ("count", "sum", "avg", "min", "max")
PARAMETER_TYPES = ("text", "number", "boolean")
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


class ReportError(Exception):
    """A definition or a run that cannot work; the message says what to change. `field` names
    the form or API field at fault, when one is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "text"
    default: str = ""
    required: bool = False


@dataclass(frozen=True)
class Definition:
    subject: str
    filter: str = ""
    window_days: int | None = None
    window_from: datetime | None = None
    window_to: datetime | None = None
    group_by: str = ""
    metric: str = "count"
    metric_field: str = ""
    parameters: tuple[Parameter, ...] = ()


# -- fields ------------------------------------------------------------------------------------


def field_sql(subject: Subject, path: str, *, field: str, params: dict) -> tuple[str, str]:
    """(SQL text of the field's value as text, SQL of it as a number or NULL)."""
    path = path.strip()
    if path in subject.plain_columns:
        column = f'"{subject.plain_columns[path]}"'
        number = f"{column}::numeric" if path in subject.number_columns else "NULL::numeric"
        return f"{column}::text", number
    head, _, rest = path.partition(".")
    keys = rest.split(".") if rest else []
    if head not in subject.json_columns or not keys or not all(key.strip() for key in keys):
        raise ReportError(
            f"{path!r} is not a field of {subject.label.lower()}: use {subject.fields_hint}.",
            field=field,
        )
    name = f"f{len(params)}"
    params[name] = keys
    value = f'("{head}" #> %({name})s::text[])'
    number = f"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value} #>> '{{}}')::numeric END)"
    return f"({value} #>> '{{}}')", number


# -- parameters --------------------------------------------------------------------------------


def parameter_value(parameter: Parameter, raw: Any, *, field: str = "parameters") -> Any:
    """The typed value of a parameter from what a form, the API or a template gave."""
    label = f"Parameter {parameter.name}"
    if parameter.type == "number":
        if isinstance(raw, bool):
            raise ReportError(f"{label} must be a number, not {raw!r}.", field=field)
        if isinstance(raw, int | float):
            number = raw
        else:
            try:
                number = float(str(raw).strip())
            except ValueError:
                raise ReportError(
                    f"{label} must be a number, e.g. 10 or 2.5, not {raw!r}.", field=field
                ) from None
            if number.is_integer() and "." not in str(raw) and "e" not in str(raw).lower():
                number = int(number)
        if isinstance(number, float) and not math.isfinite(number):
            raise ReportError(f"{label} must be a finite number, not {raw!r}.", field=field)
        return number
    if parameter.type == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ReportError(f"{label} must be true or false, not {raw!r}.", field=field)
    if isinstance(raw, dict | list) or raw is None:
        raise ReportError(f"{label} must be a text, not {json.dumps(raw)}.", field=field)
    return raw if isinstance(raw, str) else json.dumps(raw)


def parameter_values(definition: Definition, given: dict[str, Any] | None) -> dict[str, Any]:
    """Every parameter's typed value: the given one, else its default."""
    given = dict(given or {})
    known = {parameter.name for parameter in definition.parameters}
    unknown = sorted(set(given) - known)
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ReportError(
            f"This report has no parameter {', '.join(unknown)} (its parameters: {names}).",
            field="parameters",
        )
    values = {}
    for parameter in definition.parameters:
        if parameter.name in given and given[parameter.name] not in (None, ""):
            values[parameter.name] = parameter_value(parameter, given[parameter.name])
        elif parameter.required or (parameter.default == "" and parameter.type != "text"):
            raise ReportError(
                f"Parameter {parameter.name} needs a value for this run (it has no default).",
                field="parameters",
            )
        else:
            values[parameter.name] = parameter_value(parameter, parameter.default)
    return values


def literal(value: Any) -> str:
    """A value as a notation literal: JSON quoting (the notation reads JSON escapes)."""
    return json.dumps(value)


def filter_with_values(text: str, values: dict[str, Any]) -> str:
    """The filter with each parameter written as a literal. A parameter stands alone
    (`>= {{min_total}}`) or as a whole quoted string (`>= "{{min_total}}"`, what the condition
    builder writes); inside other text of a string it is refused, so a value can never end a
    string early."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in "\"'":
            end = _string_end(text, index)
            content = text[index + 1 : end - 1]
            whole = PLACEHOLDER.fullmatch(content)
            if whole:
                out.append(literal(_value_of(whole.group(1), values)))
            elif "{{" in content:
                raise ReportError(
                    f"The filter has a parameter inside the text {text[index:end]}: a parameter "
                    'must be the whole value, e.g. event@type == "{{kind}}".',
                    field="filter",
                )
            else:
                out.append(text[index:end])
            index = end
            continue
        match = PLACEHOLDER.match(text, index)
        if match:
            out.append(literal(_value_of(match.group(1), values)))
            index = match.end()
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """The index after the string literal that opens at `start` (the notation's escapes);
    the end of the text for an unterminated one (the parser then says what is wrong)."""
    quote = text[start]
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index + 1
        index += 1
    return len(text)


def _value_of(name: str, values: dict[str, Any]) -> Any:
    if name not in values:
        raise ReportError(
            f"The filter uses {{{{{name}}}}}, which is not one of the report's parameters "
            f"({', '.join(sorted(values)) or 'none'}): add it as a parameter.",
            field="filter",
        )
    return values[name]


def placeholder_names(text: str) -> list[str]:
    return PLACEHOLDER.findall(text or "")


# -- the query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    sql: str
    params: dict
    grouped: bool


def build_query(
    definition: Definition, values: dict[str, Any], *, now: datetime, limit: int
) -> Query:
    subject = SUBJECTS.get(definition.subject)
    if subject is None:
        raise ReportError(
            f"Unknown subject {definition.subject!r}: choose one of {', '.join(SUBJECTS)}.",
            field="subject",
        )
    params: dict[str, Any] = {}
    where = [_filter_sql(definition, subject, values, params)]
    time = f'"{subject.time_column}"'
    if definition.window_days is not None:
        params["since"] = now - timedelta(days=definition.window_days)
        where.append(f"{time} >= %(since)s")
    if definition.window_from is not None:
        params["window_from"] = definition.window_from
        where.append(f"{time} >= %(window_from)s")
    if definition.window_to is not None:
        params["window_to"] = definition.window_to
        where.append(f"{time} < %(window_to)s")
    metric = _metric_sql(definition, subject, params)
    condition = " AND ".join(where)
    params["row_limit"] = limit + 1
    if definition.group_by.strip():
        group, _ = field_sql(subject, definition.group_by, field="group_by", params=params)
        sql = (
            f'SELECT {group} AS "group", {metric} AS "value" FROM "{subject.table}" '
            f"WHERE {condition} GROUP BY 1 ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST "
            "LIMIT %(row_limit)s"
        )
        return Query(sql, params, grouped=True)
    sql = f'SELECT NULL AS "group", {metric} AS "value" FROM "{subject.table}" WHERE {condition}'
    return Query(sql, params, grouped=False)


def _filter_sql(definition: Definition, subject: Subject, values: dict, params: dict) -> str:
    text = definition.filter.strip()
    if not text:
        return "true"
    filled = filter_with_values(text, values)
    try:
        translated = condition_sql(
            filled,
            source=subject.source,
            json_columns=subject.json_columns,
            plain_columns=subject.plain_columns,
            text_columns=subject.text_columns,
            prefix="c",
        )
    except NotationError as exc:
        raise ReportError(f"The filter does not parse: {exc}", field="filter") from exc
    if translated is None:
        raise ReportError(
            f"The filter cannot run as a report: use comparisons (==, !=, <, <=, >, >=), "
            f"EXISTS, IS NULL, EMPTY with AND, OR, NOT on {subject.source}@<field> paths "
            f"({subject.fields_hint}) and constants; no functions, BETWEEN or CONTAINS.",
            field="filter",
        )
    sql, condition_params = translated
    params.update(condition_params)
    return sql


def _metric_sql(definition: Definition, subject: Subject, params: dict) -> str:
    if definition.metric not in METRICS:
        raise ReportError(
            f"Unknown metric {definition.metric!r}: choose one of {', '.join(METRICS)}.",
            field="metric",
        )
    if definition.metric == "count":
        return "count(*)"
    if not definition.metric_field.strip():
        raise ReportError(
            f"The {definition.metric} needs a field to measure, e.g. properties.total.",
            field="metric_field",
        )
    _, number = field_sql(subject, definition.metric_field, field="metric_field", params=params)
    return f"{definition.metric}({number})"


def definition_check(definition: Definition) -> None:
    """Raise ReportError for a definition that cannot run with its default values (each
    parameter without a default stands in as a value of its type)."""
    names = [parameter.name for parameter in definition.parameters]
    for parameter in definition.parameters:
        if not PARAMETER_NAME.match(parameter.name):
            raise ReportError(
                f"Parameter name {parameter.name!r}: use letters, digits and _ (e.g. min_total).",
                field="parameters",
            )
        if parameter.type not in PARAMETER_TYPES:
            raise ReportError(
                f"Parameter {parameter.name}: the type is one of {', '.join(PARAMETER_TYPES)}.",
                field="parameters",
            )
        if parameter.default != "":
            parameter_value(parameter, parameter.default)
    if len(set(names)) != len(names):
        raise ReportError("Two parameters have the same name.", field="parameters")
    if definition.window_days is not None and definition.window_days < 1:
        raise ReportError("The last N days must be 1 or more.", field="window_days")
    if (
        definition.window_from is not None
        and definition.window_to is not None
        and definition.window_from >= definition.window_to
    ):
        raise ReportError("The window's 'from' must be before its 'to'.", field="window_to")
    stand_ins = {"text": "", "number": 0, "boolean": False}
    values = {
        parameter.name: (
            parameter_value(parameter, parameter.default)
            if parameter.default != ""
            else stand_ins[parameter.type]
        )
        for parameter in definition.parameters
    }
    build_query(definition, values, now=datetime.now().astimezone(), limit=1)
