"""Loads the conformance corpus copied into tests/notation/cases/ as pytest parameters."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CASES_DIRECTORY = Path(__file__).with_name("cases")


@cache
def load_corpus(file_name: str) -> dict[str, Any]:
    return json.loads((CASES_DIRECTORY / file_name).read_text(encoding="utf-8"))


def case_parameters(file_name: str, label_key: str) -> list[Any]:
    """One `pytest.param(case)` per case, its id the case's number and `label_key` text."""
    corpus = load_corpus(file_name)
    parameters = []
    for number, case in enumerate(corpus["cases"], start=1):
        label = case[label_key]
        if not isinstance(label, str):
            label = json.dumps(label, sort_keys=True)
        parameters.append(pytest.param(case, id=f"{number:02d} {label[:80]}"))
    return parameters
