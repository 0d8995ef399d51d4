"""SQL query actions: PostgreSQL and MySQL/MariaDB, parameterised, read-only by default."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from apps import notation
from apps.destinations.connectors import sql
from apps.destinations.connectors.http import VendorAnswer
from apps.workflows.actions.base import ConfigError
from apps.workflows.actions.connectors.base import ConnectorAction, connector_schema

if TYPE_CHECKING:
    from apps.workflows.engine import Flow

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _schema(types: tuple[str, ...]) -> dict:
    return connector_schema(
        types,
        ["query"],
        query={
            "type": "string",
            "minLength": 1,
            "title": "Query",
            "description": "SQL with %(name)s placeholders for values, e.g. SELECT plan FROM "
            "customers WHERE email = %(email)s",
            "x-widget": "textarea",
        },
        params={
            "type": "object",
            "default": {},
            "title": "Values",
            "description": "Each placeholder's value: a dot path (profile@...) or a literal. "
            "Values are sent apart from the SQL, never written into it.",
            "x-form": "object-template",
        },
        read_only={
            "type": "boolean",
            "default": True,
            "title": "Read only",
            "description": "On: the query runs in a read-only transaction (writes are refused). "
            "Off: it may write, and is committed.",
        },
        max_rows={
            "type": "integer",
            "default": 100,
            "minimum": 1,
            "maximum": sql.MAX_ROWS,
            "title": "At most this many rows",
            "description": f"Rows past it are left out (truncated: true); at most {sql.MAX_ROWS}.",
        },
    )


class _SqlQueryAction(ConnectorAction):
    run_query: ClassVar[Any]
    docs = (
        "The rows go to `response` as the payload: {rows: [{column: value}], row_count, "
        "truncated}; dates and decimals as text. A database error (syntax, a write in a "
        "read-only query, a timeout) goes to `error` with the database's message. One "
        "connection per run, with the node's timeout as connect and statement timeout."
    )

    def setup(self) -> None:
        named = set(_PLACEHOLDER.findall(self.config["query"]))
        missing = sorted(named - set(self.config["params"]))
        if missing:
            raise ConfigError(f"params: give a value for {', '.join(missing)}")
        unused = sorted(set(self.config["params"]) - named)
        if unused:
            raise ConfigError(f"params: the query has no %({unused[0]})s placeholder")

    def perform(self, credentials: Mapping[str, Any], data: dict, flow: Flow) -> VendorAnswer:
        params = notation.render_template(self.config["params"], data)
        return type(self).run_query(
            credentials,
            self.config["query"],
            params,
            read_only=self.config["read_only"],
            timeout=flow.remaining(self.config["timeout"]),
            max_rows=self.config["max_rows"],
        )

    def answer_value(self, answer: VendorAnswer) -> Any:
        return answer.content


class PostgresqlQueryAction(_SqlQueryAction):
    id = "postgresql_query"
    name = "PostgreSQL: query"
    description = "Runs a parameterised SQL query on a PostgreSQL database; rows to the payload."
    resource_types = ("postgresql",)
    vendor = "PostgreSQL"
    config_schema = _schema(resource_types)
    run_query = staticmethod(sql.postgresql_query)


class MysqlQueryAction(_SqlQueryAction):
    id = "mysql_query"
    name = "MySQL: query"
    description = (
        "Runs a parameterised SQL query on a MySQL or MariaDB database; rows to the payload."
    )
    resource_types = ("mysql",)
    vendor = "MySQL"
    config_schema = _schema(resource_types)
    run_query = staticmethod(sql.mysql_query)
