"""Domain errors and the one handler that turns them into {"detail": ...} answers."""

import logging

from django.db import InterfaceError, OperationalError
from rest_framework import status
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
    return exception_handler(exc, context)
