"""Domain errors and the one handler that turns them into {"detail": ...} answers."""

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


def api_exception_handler(exc, context):
    if isinstance(exc, ApiError):
        return Response({"detail": exc.detail}, status=exc.status_code)
    return exception_handler(exc, context)
