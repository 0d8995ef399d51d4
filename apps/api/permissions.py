"""Who may call a route: an API key what its scopes allow in the view's area; a signed-in
staff user what their role (their Django permissions, apps.core.roles) allows in the admin."""

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.api.authentication import KeyHolder
from apps.api.scopes import scope_needed, scopes_allow

NO_CREDENTIALS = (
    "Send an API key as 'Authorization: Bearer <key>' (create one in the admin under "
    "System → API keys, or with manage.py create_api_key), or sign in to the admin."
)
SUPERUSER_ONLY = "superuser"
# A viewset's own actions and what each needs of the view's model, as in the admin.
STANDARD_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def staff_permission_needed(view, request) -> str | None:
    """The permission ("app_label.codename") a signed-in user needs for this request; None
    for a view that every staff user may read (the API's root).

    Views say it in `staff_permission` (one for the whole view) or, for their extra actions,
    `staff_actions` ({action: "view" | "add" | "change" | "delete" on the view's model, or a
    full "app_label.codename"}). An extra action that writes and is in neither is refused: a
    new route must say what it needs."""
    if getattr(view, "staff_permission", None):
        return view.staff_permission
    queryset = getattr(view, "queryset", None)
    if queryset is None:
        if request.method in SAFE_METHODS:
            return None
        return SUPERUSER_ONLY
    action = getattr(view, "action", None)
    needed = getattr(view, "staff_actions", {}).get(action) or STANDARD_ACTIONS.get(action)
    if needed is None and request.method in SAFE_METHODS:
        needed = "view"
    if needed is None:
        return SUPERUSER_ONLY
    if "." in needed:
        return needed
    opts = queryset.model._meta
    return f"{opts.app_label}.{needed}_{opts.model_name}"


class HasScope(BasePermission):
    """Views set `api_area` (one of apps.api.scopes.AREAS) for keys, may name actions that POST
    but only read in `read_actions` (running a report), and may set `staff_permission` /
    `staff_actions` for signed-in users (see staff_permission_needed)."""

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
        needed = staff_permission_needed(view, request)
        if needed is None or user.is_superuser:
            return True
        if needed == SUPERUSER_ONLY:
            raise exceptions.PermissionDenied("This route is for superusers only.")
        if not user.has_perm(needed):
            raise exceptions.PermissionDenied(
                f"Your role may not do this (it needs the permission '{needed}'): ask an "
                "administrator for a role that has it."
            )
        return True
