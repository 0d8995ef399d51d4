"""`Authorization: Bearer <key>` for the management API (staff sessions work too)."""

from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apps.api.keys import KeyRefused, api_key_check
from apps.api.models import ApiKey


@dataclass(frozen=True)
class KeyHolder:
    """`request.user` of a request made with an API key: whoever holds the key."""

    key: ApiKey
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    is_anonymous: bool = False

    @property
    def pk(self) -> None:
        return None

    def __str__(self) -> str:
        return f"API key {self.key}"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() != "bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <key>' (one space, no quotes)."
            )
        try:
            plain = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "This API key is not recognised: it holds characters no key has."
            ) from None
        try:
            key = api_key_check(plain)
        except KeyRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        return KeyHolder(key), key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no or bad credentials were sent.
        return 'Bearer realm="api"'
