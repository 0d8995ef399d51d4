"""Answering the page: what a workflow run in the /track request puts into its answer."""

from __future__ import annotations

import copy
import re
from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, ConfigError, Result

# A dot-separated key: names of letters, digits, '_' and '-', e.g. `offer.banner`.
_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


class CreateResponseAction(Action):
    id = "create_response"
    name = "Create response"
    group = "Flow"
    description = "Puts an object into the /track answer's `response` under a key."
    docs = (
        "Renders `body`, an object template (its text leaves are dot paths or literals, e.g. "
        '`{"code": "profile@traits.coupon", "percent": 10}`; a key ending in `?` is dropped '
        "when its value is missing), and writes it into the run's response under `key`, a "
        "dot-separated key such as `discount` or `offer.banner` (nested objects are made as "
        "needed). The payload goes on unchanged.\n\n"
        "The response reaches the page only when the workflow runs in the request: its rule "
        'is marked "answers in the request". Then the page\'s tracker receives it in the '
        "answer's `response`; when several workflows answer one request their responses are "
        "merged, the later one's keys winning and nested objects merged key by key. In a "
        "worker run (any other rule, a replay) the response is ignored. A test run shows it."
    )
    config_schema = {
        "type": "object",
        "required": ["key", "body"],
        "properties": {
            "key": {
                "type": "string",
                "minLength": 1,
                "title": "Key in the response",
                "description": "Where the object goes in the answer's response, e.g. "
                "discount or offer.banner.",
            },
            "body": {
                "type": "object",
                "default": {},
                "title": "Body",
                "description": "A JSON object whose text leaves are dot paths or literals, "
                'e.g. {"code": "profile@traits.coupon", "percent": 10}.',
                "x-form": "object-template",
            },
        },
    }

    def setup(self) -> None:
        key = self.config["key"].strip()
        if not _KEY.match(key):
            raise ConfigError(
                f"key: {key!r} is not a dot-separated key; write e.g. discount or offer.banner"
            )
        self.path = key.split(".")

    def run(self, payload: Any, flow) -> Result:
        rendered = notation.render_template(self.config["body"], flow.data(payload))
        # The rendered leaves are the profile's and event's own objects: a copy, so that later
        # nodes changing those do not change the answer.
        node = flow.response
        for name in self.path[:-1]:
            child = node.get(name)
            if not isinstance(child, dict):
                child = node[name] = {}
            node = child
        node[self.path[-1]] = copy.deepcopy(rendered)
        return Result("payload", payload)
