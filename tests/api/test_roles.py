"""A signed-in user's access to the management API follows their role (apps.core.roles), as
in the admin: every route of the API (walked from the URL resolver) with a user per role,
reads and writes, exactly as the roles table allows; a refused write stores nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.permissions import SAFE_METHODS
from rest_framework.test import APIClient

from apps.core.roles import ROLE_LIST, role_actions
from apps.events.indexing import reindex_job_create
from apps.events.models import EventReshaping, EventType, IndexedProperty
from tests.admin.test_roles import MISSING, one_object_per_model, role_users

pytestmark = pytest.mark.django_db
# What a viewset's standard actions need of its model (the admin's rule).
STANDARD = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}
OPEN_TO_ALL_STAFF = {"api-root"}
PUBLIC = {"health"}  # open to anyone (a load balancer's probe): no role involved


def api_routes() -> list[tuple[str, URLPattern]]:
    """(URL name, pattern) of every route under /api/v1/, format-suffix variants left out."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif (
                (prefix + str(pattern.pattern)).startswith("api/v1/")
                and pattern.name
                and "format" not in pattern.pattern.regex.groupindex
            ):
                found.append((f"{namespace}:{pattern.name}", pattern))

    walk(get_resolver().url_patterns, "", None)
    return found


def needed(view_class, action: str, method: str) -> tuple[str, str, str] | None:
    """(app label, model name, action) a signed-in user needs, from what the view declares."""
    if getattr(view_class, "staff_permission", None):
        app_label, codename = view_class.staff_permission.split(".")
        verb, model_name = codename.split("_", 1)
        return app_label, model_name, verb
    opts = view_class.queryset.model._meta
    verb = view_class.staff_actions.get(action) if hasattr(view_class, "staff_actions") else None
    verb = verb or STANDARD.get(action) or ("view" if method in SAFE_METHODS else None)
    assert verb is not None, (
        f"{view_class.__name__}.{action} ({method}) does not say what a signed-in user needs: "
        "add it to the view's staff_actions"
    )
    if "." in verb:
        app_label, codename = verb.split(".")
        verb, model_name = codename.split("_", 1)
        return app_label, model_name, verb
    return opts.app_label, opts.model_name, verb


def lookup_of(view_class, group: str) -> str:
    """The attribute of the view's object that a URL group names: its lookup, or for a route
    nested under another object (/event-types/<event_type>/reshaping/<pk>/) the parent, a
    foreign key of the same name whose str() is how the URL names it."""
    own = getattr(view_class, "lookup_url_kwarg", None) or view_class.lookup_field
    return view_class.lookup_field if group == own else group


def may(role: str, permission: tuple[str, str, str]) -> bool:
    app_label, model_name, verb = permission
    actions = role_actions(role, app_label, model_name)
    return verb in actions or (verb == "view" and "change" in actions)


def test_each_role_reaches_exactly_the_api_routes_its_row_allows():
    users = role_users()
    one_object_per_model()
    nested_objects()
    clients = {}
    for role, user in users.items():
        clients[role] = APIClient()
        clients[role].force_login(user)
    checked = refused_writes = 0
    for name, pattern in api_routes():
        if name.split(":")[1] in PUBLIC:
            continue
        view_class = pattern.callback.cls
        actions = getattr(pattern.callback, "actions", None) or {"get": "get"}
        for method, action in list(actions.items()):
            method = method.upper()
            if name.split(":")[1] in OPEN_TO_ALL_STAFF:
                permission = None
            else:
                permission = needed(view_class, action, method)
            kwargs = {}
            for group in pattern.pattern.regex.groupindex:
                first = view_class.queryset.model._default_manager.order_by("pk").first()
                existing = str(getattr(first, lookup_of(view_class, group))) if first else MISSING
                # Reads look at a real object; writes aim at a missing one (nothing changes).
                kwargs[group] = (
                    existing if method in SAFE_METHODS and existing != MISSING else "missing"
                )
            url = reverse(name, kwargs=kwargs)
            queryset = getattr(view_class, "queryset", None)
            model = queryset.model if queryset is not None else None
            for role, client in clients.items():
                before = model._default_manager.count() if model else 0
                response = getattr(client, method.lower())(url, {}, format="json")
                status = response.status_code
                where = f"{role}: {method} {url} answered {status}"
                if permission is None or may(role, permission):
                    assert status != 403 and status < 500, where
                    # A plain read of a list or of an object that exists: exactly 200.
                    plain_read = action in {"list", "get", "retrieve"} and "missing" not in url
                    if method == "GET" and plain_read:
                        assert status == 200, where
                else:
                    assert status == 403, where
                    if method != "HEAD":  # (a HEAD answer has no body)
                        assert "Your role may not do this" in response.json()["detail"], where
                    if method not in SAFE_METHODS:
                        assert model._default_manager.count() == before, where
                        refused_writes += 1
                checked += 1
    assert checked >= 60 * len(ROLE_LIST)
    assert refused_writes >= 60


def nested_objects() -> None:
    """One of each object under an event type, so their routes are read for real."""
    event_type = EventType.objects.create(type="roles-walk", name="Roles walk")
    EventReshaping.objects.create(event_type=event_type, name="r", properties={"a": "b"})
    IndexedProperty.objects.create(event_type=event_type, property="sku", trait="sku")
    reindex_job_create(event_type=event_type, requested_by="anna")


def test_superusers_and_api_keys_are_not_limited_by_roles(make_client):
    root = APIClient()
    root.force_login(get_user_model().objects.create_superuser("root"))
    assert root.get("/api/v1/profiles/").status_code == 200
    # Past the permission check: the body is what is refused.
    response = root.post("/api/v1/events/revalidate/", {"event_ids": []}, format="json")
    assert response.status_code == 400

    key = make_client("profiles:read")
    assert key.get("/api/v1/profiles/").status_code == 200
    assert key.get("/api/v1/sources/").status_code == 403


def test_a_refusal_names_the_permission(client):
    users = role_users()
    api = APIClient()
    api.force_login(users["Analyst"])
    response = api.post("/api/v1/segments/", {"name": "Big spenders"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role may not do this (it needs the permission 'profiles.add_segment'): "
        "ask an administrator for a role that has it."
    }
    api.force_login(users["Marketer"])
    assert api.get("/api/v1/segments/").status_code == 200
