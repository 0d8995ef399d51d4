"""What the workflows run in the /track request add to its answer (DESIGN §4.1, §8).

Tracardi's rule, kept here: each run's `flow.response` is deep-merged into the answer's
`response` in the order the runs happen (the request's events in order, then for each event
its workflows in the order the worker uses, rule name then id), so when two workflows write
the same key the later one wins, and nested objects are merged key by key; each run's
`flow.ux` items are appended to the answer's `ux` in the same order.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from apps.workflows.actions.data import deep_merge


@dataclass
class RequestAnswer:
    """The `response`, `ux` and `warnings` of a /track answer, as the runs fill them."""

    response: dict = field(default_factory=dict)
    ux: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, *, response: dict, ux: list[dict]) -> None:
        """Merge one run's response (later keys win, nested objects merged) and append its
        ux items. Copies: the nodes' objects may be shared with the profile or the event."""
        deep_merge(self.response, copy.deepcopy(response))
        self.ux.extend(copy.deepcopy(ux))
