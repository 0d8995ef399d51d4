"""Error types of the notation engine.

Every error raised by the public functions is a `NotationError`, so callers (workflow nodes,
segment evaluation, destination mappings) can catch one type and record the message.
"""

from __future__ import annotations


class NotationError(Exception):
    """Base of every error the notation engine raises."""


class ConditionSyntaxError(NotationError):
    """A condition that does not parse (or names an unknown function, or has a wrong arity).

    `position` is the 0-based character offset into `condition`; `line` and `column` are 1-based,
    so the admin can point at the spot next to the field.
    """

    def __init__(
        self,
        message: str,
        *,
        condition: str,
        position: int,
        line: int,
        column: int,
        expected: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.condition = condition
        self.position = position
        self.line = line
        self.column = column
        self.expected = expected


class InvalidReferenceError(NotationError):
    """A `source@path` reference whose path is malformed (e.g. `profile@a..b`)."""

    def __init__(self, message: str, *, reference: str) -> None:
        super().__init__(message)
        self.reference = reference


class MissingReferenceError(NotationError):
    """A dot reference points at a path that is not in the data."""

    def __init__(self, reference: str, *, context: str = "") -> None:
        super().__init__(f"Missing value: {reference!r} is not in the data{context}")
        self.reference = reference


class EvaluationError(NotationError):
    """A condition parsed but cannot be evaluated on this data (wrong types, bad date, ...)."""


class AssignmentError(NotationError):
    """`assign` cannot write through the path (e.g. it crosses a string or a short list)."""
