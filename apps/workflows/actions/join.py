"""Join: wait for every branch that leads here, then go on once with all their values
(Tracardi's operations.join_payloads; the engine does the waiting, see engine.py)."""

from __future__ import annotations

import copy
from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, Result


class JoinPayloadsAction(Action):
    id = "join"
    name = "Join"
    group = "Flow"
    description = "Waits for all branches that lead here, then runs once with all their values."
    docs = (
        "Connect several branches to this node. It runs once, after every branch that can "
        "still reach it has finished, on the values that arrived: with `type` dict (default) "
        '`{"<connection name>": <value>, ...}` (a connection without a name is keyed by its '
        "id), with list `[<value>, ...]` in arrival order. A branch that ended early adds "
        "nothing. `reshape`: an optional object template over that joined payload, e.g. "
        '`{"email": "payload@left.email", "score": "payload@right.score"}`; with `default` on, '
        "a missing path becomes null."
    )
    joins_inputs = True
    config_schema = {
        "type": "object",
        "properties": {
            "type": {
                "enum": ["dict", "list"],
                "default": "dict",
                "title": "Join into",
                "description": "dict: keyed by connection name; list: the values in order.",
            },
            "reshape": {
                "type": "object",
                "default": {},
                "title": "Reshape the output",
                "description": "Optional object template over the joined payload, e.g. "
                '{"email": "payload@left.email"}; empty: send the joined payload as it is.',
                "x-form": "object-template",
            },
            "default": {
                "type": "boolean",
                "default": True,
                "title": "Missing values are null",
                "description": "Off: a missing path in the reshape template stops the run.",
            },
        },
    }

    def run(self, payload: Any, flow) -> Result:
        joined = payload if isinstance(payload, dict) else {"payload": payload}
        if self.config["reshape"]:
            data = flow.data(joined)
            if self.config["default"]:
                shaped = notation.render_template(self.config["reshape"], data, default=None)
            else:
                shaped = notation.render_template(self.config["reshape"], data)
            return Result("payload", copy.deepcopy(shaped))
        if self.config["type"] == "list":
            return Result("payload", list(joined.values()))
        return Result("payload", joined)
