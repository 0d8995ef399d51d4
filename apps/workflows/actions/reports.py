"""Load report: runs a saved report (apps.reports) with parameter values from the event, the
profile or the payload, and sends its rows on. The run is read-only (its own savepoint, rolled
back), so it cannot disturb the workflow's writes."""

from __future__ import annotations

import copy
from typing import Any

from apps import notation
from apps.reports.definition import ReportError
from apps.reports.running import report_run
from apps.reports.selectors import report_find, report_names
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ConfigError,
    Result,
    optional_target,
)


class LoadReportAction(Action):
    id = "load_report"
    name = "Load report"
    group = "Data"
    description = "Runs a saved report with parameters and sends its rows on."
    docs = (
        "`report`: the report's name (or id) as listed under Understand → Reports. "
        "`parameters`: an object template of the report's parameters, e.g. "
        '`{"min_total": "event@properties.total", "country": "PL"}` (dot paths or literals); '
        "a parameter left out takes its default. The result "
        '`{"rows": [{"group": ..., "value": ...}], "parameters": {...}}` goes to `result` '
        "(and to `target`, when set, e.g. profile@aux.report). To `error`, with "
        '`{"message": ...}`: a report that no longer exists, a missing path in the '
        "parameters, a value of the wrong type, or a report over its time or row limit."
    )
    outputs = ("result", "error")
    config_schema = {
        "type": "object",
        "required": ["report"],
        "properties": {
            "report": {
                "type": "string",
                "minLength": 1,
                "title": "Report",
                "description": "A saved report (Understand → Reports), by its name, e.g. "
                "Purchases by country.",
            },
            "parameters": {
                "type": "object",
                "default": {},
                "title": "Parameters",
                "description": "Values by parameter name: dot paths or literals, e.g. "
                '{"min_total": "event@properties.total"}.',
                "x-form": "object-template",
            },
            "target": TARGET_PROPERTY,
        },
    }

    @classmethod
    def editor_schema(cls) -> dict:
        """The report as a pick list of the saved reports' names (a text box while none)."""
        names = report_names()
        if not names:
            return cls.config_schema
        schema = copy.deepcopy(cls.config_schema)
        schema["properties"]["report"]["enum"] = names
        return schema

    def setup(self) -> None:
        key = self.config["report"].strip()
        report = report_find(key=key) if key else None
        if report is None:
            raise ConfigError(
                f"report: there is no report {key!r}; write the name of one under "
                "Understand → Reports"
            )
        names = {parameter.name for parameter in report.parameters.all()}
        unknown = sorted(set(self.config["parameters"]) - names)
        if unknown:
            raise ConfigError(
                f"parameters: {report.name} has no parameter {', '.join(unknown)} "
                f"(its parameters: {', '.join(sorted(names)) or 'none'})"
            )
        optional_target(self.config)
        self.report_id = report.pk

    def run(self, payload: Any, flow) -> Result:
        report = report_find(key=self.report_id)
        if report is None:
            return Result("error", {"message": f"the report {self.config['report']!r} is gone"})
        try:
            values = notation.render_template(self.config["parameters"], flow.data(payload))
            result = report_run(report=report, parameters=values)
        except (ReportError, notation.NotationError) as exc:
            return Result("error", {"message": str(exc)})
        flow.log("info", f"{report.name}: {len(result.rows)} rows in {result.elapsed_ms:.0f} ms")
        return self.deliver(result.document(), payload, flow, port="result")
