"""Scopes: an API key may do what its scopes allow in the view's area; staff may do all."""

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.api.authentication import KeyHolder
from apps.api.scopes import scope_needed, scopes_allow

NO_CREDENTIALS = (
    "Send an API key as 'Authorization: Bearer <key>' (create one in the admin under "
    "System → API keys, or with manage.py create_api_key), or sign in to the admin."
)


class HasScope(BasePermission):
    """Views set `api_area` (one of apps.api.scopes.AREAS), and may name actions that POST
    but only read in `read_actions` (running a report)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            raise exceptions.NotAuthenticated(NO_CREDENTIALS)
        write = request.method not in SAFE_METHODS and getattr(view, "action", None) not in (
            getattr(view, "read_actions", ())
        )
        if isinstance(user, KeyHolder):
            area = view.api_area
            if not scopes_allow(user.key.scopes, area, write=write):
                needed = scope_needed(area, write=write)
                raise exceptions.PermissionDenied(
                    f"This API key lacks the scope '{needed}' (it has: "
                    f"{', '.join(user.key.scopes)})."
                )
            return True
        if not user.is_staff:
            raise exceptions.PermissionDenied("Only staff users may use the API when signed in.")
        return True
