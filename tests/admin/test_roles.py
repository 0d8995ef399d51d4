"""Tracardi's roles (apps.core.roles): the table covers every admin model, the groups hold
exactly its permissions, and a user of each role reaches every admin page and custom admin
URL (walked from the URL resolver) exactly as the table says, no more."""

import re
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from apps.core.role_sync import roles_sync
from apps.core.roles import COLUMNS, ROLE_LIST, ROLES, role_actions, role_permissions

pytestmark = pytest.mark.django_db
PASSWORD = "a-role-password-9"
MISSING = str(uuid.UUID(int=7))  # no object has this id: pages answer for a missing object
# The standard ModelAdmin pages by URL-name suffix -> what the user must be allowed to do.
STANDARD_PAGES = {
    "changelist": "view",
    "add": "add",
    "change": "view",
    "history": "view",
    "delete": "delete",
    "password_change": "change",  # auth's user password page
}
# The site's own pages every staff user reaches (the index shows each only their models).
SITE_PAGES = {"index", "logout", "password_change", "password_change_done", "jsi18n"}


def role_users() -> dict[str, object]:
    """One user per role, made the operator's way (manage.py create_user)."""
    users = {}
    for role in ROLE_LIST:
        call_command("create_user", role.slug, role=role.slug, password=PASSWORD)
        users[role.name] = get_user_model().objects.get(username=role.slug)
    return users


def one_object_per_model() -> dict[tuple[str, str], str]:
    """The id of an object of each admin model that tests can make cheaply; models left out
    get MISSING (their pages then answer for a missing object)."""
    from apps.api.keys import api_key_create
    from apps.profiles.models import ConsentType
    from tests.destinations.factories import DestinationFactory
    from tests.events.factories import EventFactory
    from tests.profiles import factories as profiles
    from tests.sources.factories import RedirectLinkFactory
    from tests.workflows.factories import RuleFactory

    session = profiles.SessionFactory()
    profiles.SegmentFactory()
    profiles.IdentificationPointFactory()
    profiles.EntityFactory(profile=session.profile)
    RedirectLinkFactory()
    EventFactory(profile=session.profile, session=session)
    RuleFactory()
    DestinationFactory()
    ConsentType.objects.create(id="marketing", name="Marketing")
    api_key_create(name="Deploys", scopes=["all:read"])
    ids = {}
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").first()
        key = (model._meta.app_label, model._meta.model_name)
        ids[key] = str(first.pk) if first is not None else MISSING
    return ids


def admin_urls() -> list[tuple[str, URLPattern]]:
    """Every admin URL pattern, with its full route (from the project's URL resolver)."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            else:
                found.append((route, pattern))

    walk(get_resolver().url_patterns, "")
    return [(route, pattern) for route, pattern in found if route.startswith("admin/")]


def concrete(route: str, object_id: str) -> str:
    """The route with the object's id in `object_id` (and `id`), 999999 in numbers, and a
    missing object's id in the others."""
    route = re.sub(r"<int:[a-z_]+>", "999999", route)
    route = re.sub(r"<(?:path:)?(?:object_)?id>", object_id, route)
    return "/" + re.sub(r"<(?:[a-z]+:)?[a-z_]+>", MISSING, route)


def model_of(route: str) -> tuple[str, str] | None:
    parts = route.split("/")
    for model in admin.site._registry:
        if parts[1:3] == [model._meta.app_label, model._meta.model_name]:
            return model._meta.app_label, model._meta.model_name
    return None


def allowed(role: str, key: tuple[str, str], action: str) -> bool:
    actions = role_actions(role, *key)
    # Django's rule: who may change may view.
    return action in actions or (action == "view" and "change" in actions)


def test_every_admin_model_has_a_row_in_the_roles_table():
    registered = {(m._meta.app_label, m._meta.model_name) for m in admin.site._registry}
    for key in sorted(registered):
        assert key in ROLES, (
            f"model {key[0]}.{key[1]} is in no role: add it to ROLES in apps/core/roles.py"
        )
    stale = set(ROLES) - registered
    assert not stale, f"ROLES has rows for models the admin does not show: {sorted(stale)}"


def test_the_table_is_well_formed():
    for key, cells in ROLES.items():
        assert len(cells) == len(COLUMNS), key
        for cell in cells:
            assert set(cell) <= set("vacd"), (key, cell)


def test_the_migration_and_the_sync_give_each_group_exactly_its_roles_permissions():
    for role in ROLE_LIST:
        group = Group.objects.get(name=role.name)
        held = set(group.permissions.values_list("content_type__app_label", "codename"))
        assert held == role_permissions(role.name)
    assert role_permissions("Analyst") >= {("profiles", "view_profile"), ("events", "view_event")}
    assert not any(code.split("_")[0] != "view" for _, code in role_permissions("Analyst"))

    # A permission given by hand to a role's group is taken away by the next sync.
    marketer = Group.objects.get(name="Marketer")
    marketer.permissions.add(
        *Group.objects.get(name="Maintainer").permissions.filter(codename="add_user")
    )
    counts = roles_sync()

    assert counts == {role.name: len(role_permissions(role.name)) for role in ROLE_LIST}
    assert not marketer.permissions.filter(codename="add_user").exists()


def test_every_custom_admin_url_names_the_permission_it_checks():
    for route, pattern in admin_urls():
        if model_of(route) is None or pattern.name is None:
            continue
        suffix = pattern.name.removeprefix("_".join(model_of(route)) + "_")
        if suffix in STANDARD_PAGES:
            continue
        assert getattr(pattern.callback, "required_permission", None), (
            f"the custom admin URL {route} ({pattern.name}) checks no permission: build it "
            "with apps.core.admin_helpers.admin_view_requiring"
        )


def test_each_role_reaches_exactly_the_admin_pages_its_row_allows(client):
    users = role_users()
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    objects = one_object_per_model()
    walked = with_object = 0
    for route, pattern in admin_urls():
        key = model_of(route)
        url = concrete(route, objects.get(key, MISSING))
        with_object += MISSING not in url and "<" in route
        if key is None:
            if pattern.name not in SITE_PAGES:
                continue  # login, the app pages and the catch-all: checked below
            action = None
        elif pattern.name is None:
            continue  # "<id>/" only redirects to the change page
        elif getattr(pattern.callback, "required_permission", None):
            app_label, model_name, action = pattern.callback.required_permission
            assert (app_label, model_name) == key, route
        else:
            action = STANDARD_PAGES[pattern.name.removeprefix("_".join(key) + "_")]
        client.force_login(superuser)
        as_superuser = client.get(url).status_code
        assert as_superuser < 500, f"{url} answers the superuser {as_superuser}"
        for role, user in users.items():
            client.force_login(user)
            status = client.get(url).status_code
            expected = as_superuser if action is None or allowed(role, key, action) else 403
            if pattern.name and pattern.name.endswith("_history") and as_superuser == 302:
                # Django's history page looks the object up before it checks the permission:
                # when the admin finds none, every user is sent to the index (learning nothing).
                expected = as_superuser
            assert status == expected, f"{role} on {url}: {status}, expected {expected}"
        client.logout()
        if pattern.name != "logout":
            anonymous = client.get(url)
            assert anonymous.status_code == 302 and anonymous["Location"].startswith(
                "/admin/login/"
            ), f"{url} without signing in: {anonymous.status_code}"
        walked += 1
    # The index, 31 models with 5 pages each, and the custom URLs (44 when this was written).
    assert walked >= 1 + 31 * 5 + 40
    assert with_object >= 60


def test_each_role_sees_the_app_pages_of_its_models_only(client):
    users = role_users()
    app_labels = {model._meta.app_label for model in admin.site._registry}
    for role, user in users.items():
        client.force_login(user)
        for app_label in sorted(app_labels):
            reached = any(role_actions(role, *key) for key in ROLES if key[0] == app_label)
            status = client.get(f"/admin/{app_label}/").status_code
            assert status == (200 if reached else 404), (role, app_label, status)


def test_a_role_may_not_add_through_the_admin_what_its_row_refuses(client):
    users = role_users()
    for model in admin.site._registry:
        key = (model._meta.app_label, model._meta.model_name)
        url = f"/admin/{key[0]}/{key[1]}/add/"
        for role, user in users.items():
            if allowed(role, key, "add"):
                continue
            before = model._default_manager.count()
            client.force_login(user)
            response = client.post(url, {"name": "Written by a role that may not"})
            assert response.status_code == 403, (role, url, response.status_code)
            assert model._default_manager.count() == before, (role, url)


def test_the_index_lists_each_role_its_models_and_nothing_else(client):
    users = role_users()
    for role, user in users.items():
        client.force_login(user)
        response = client.get("/admin/")
        listed = {
            (model["admin_url"].split("/")[2], model["admin_url"].split("/")[3])
            for section in response.context["app_list"]
            for model in section["models"]
        }
        expected = {key for key in ROLES if allowed(role, key, "view")}
        assert listed == expected, role
    client.force_login(users["Developer"])
    sections = client.get("/admin/").context["app_list"]
    assert [
        (section["name"], [model["name"] for model in section["models"]]) for section in sections
    ] == [
        (
            "Collect",
            [
                "Event sources",
                "Event types",
                "Quarantined events",
                "Identification points",
                "Redirect links",
            ],
        ),
        ("Understand", ["Events"]),
        ("Activate", ["Resources"]),
        ("System", ["API keys"]),
    ]


def test_the_tracker_test_page_is_for_roles_that_see_event_sources(client):
    from tests.sources.factories import EventSourceFactory

    users = role_users()
    source = EventSourceFactory()
    answers = {}
    for role, user in users.items():
        client.force_login(user)
        answers[role] = client.get(f"/tracker/test/{source.pk}/").status_code
    assert answers == {"Marketer": 200, "Developer": 200, "Maintainer": 403, "Analyst": 200}


def test_the_read_only_role_changes_nothing_through_any_admin_action(client):
    """Admin actions (merge, forget, replay, evaluate, enable, revoke...) are writes too: the
    Analyst runs every one of them, confirmed, on every object it may see, and nothing moves."""
    users = role_users()
    one_object_per_model()

    def snapshot():
        return {
            model: list(model._default_manager.order_by("pk").values())
            for model in admin.site._registry
        }

    client.force_login(users["Analyst"])
    before = snapshot()  # (after signing in, which stamps last_login)
    tried = 0
    for model, model_admin in admin.site._registry.items():
        key = (model._meta.app_label, model._meta.model_name)
        if not allowed("Analyst", key, "view"):
            continue
        pks = [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]
        names = [getattr(a, "__name__", a) for a in model_admin.actions or ()]
        for name in [*names, "delete_selected"]:
            response = client.post(
                f"/admin/{key[0]}/{key[1]}/",
                {"action": name, "_selected_action": pks, "confirm": "yes", "post": "yes"},
            )
            assert response.status_code in {200, 302, 403}, (key, name, response.status_code)
            tried += 1
    assert tried >= 20
    assert snapshot() == before
