"""Domain errors and the one handler that turns them into {"detail": ...} answers."""

import logging

from django.core.exceptions import ValidationError as ModelValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApiError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail, *, status_code: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code


class PayloadInvalid(ApiError):
    """400 for a body that is not JSON; 422 (with `schema`) for one that breaks the contract."""

    @classmethod
    def schema(cls, details: list[dict]) -> "PayloadInvalid":
        return cls(details, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class AccessDenied(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND


logger = logging.getLogger(__name__)

# Seconds a client is asked to wait while the database is unreachable; the tracker and
# Tracardi's clients retry with the same event ids, so a retry stores each event once.
DATABASE_RETRY_AFTER_SECONDS = 5


def api_exception_handler(exc, context):
    if isinstance(exc, ApiError):
        return Response({"detail": exc.detail}, status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError):
        # PostgreSQL is down, restarting or refusing connections: nothing was committed.
        logger.warning("Database unavailable, answered 503: %s", exc)
        return Response(
            {"detail": "The database is unavailable; retry later."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, ModelValidationError):
        # A service refused the change (model validation): the same answer as a form error.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, exceptions.ValidationError):
        # Tracardi's (FastAPI's) shape, as /track answers: one entry per field path.
        return Response({"detail": validation_details(exc.detail)}, status=exc.status_code)
    return exception_handler(exc, context)


# Errors of the whole body, not one field (DRF's and Django's names).
NON_FIELD_KEYS = ("non_field_errors", "__all__")


def validation_details(detail, loc: tuple = ("body",)) -> list[dict]:
    """DRF's nested error detail as [{"loc": [...], "msg": ..., "type": ...}]."""
    if isinstance(detail, dict):
        return [
            entry
            for key, value in detail.items()
            for entry in validation_details(
                value, loc if key in NON_FIELD_KEYS else (*loc, *_path(key))
            )
        ]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [
                {"loc": list(loc), "msg": str(item), "type": getattr(item, "code", "invalid")}
                for item in detail
            ]
        return [
            entry
            for index, item in enumerate(detail)
            if item
            for entry in validation_details(item, (*loc, index))
        ]
    return [{"loc": list(loc), "msg": str(detail), "type": getattr(detail, "code", "invalid")}]


def _path(key) -> tuple:
    """A dotted error key ("mappings.0.profile_path") as its path segments."""
    return tuple(int(part) if part.isdigit() else part for part in str(key).split("."))
