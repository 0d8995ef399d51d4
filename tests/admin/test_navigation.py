"""The admin index and sidebar grouped by the marketer's work (apps.core.admin_site)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

pytestmark = pytest.mark.django_db


def _sections(response) -> list[tuple[str, list[str]]]:
    return [
        (app["name"], [model["name"] for model in app["models"]])
        for app in response.context["app_list"]
    ]


def test_a_superuser_sees_the_four_sections_in_the_order_of_the_work(client):
    client.force_login(get_user_model().objects.create_superuser(username="admin"))
    sections = _sections(client.get("/admin/"))
    assert [name for name, _ in sections] == ["Collect", "Understand", "Activate", "System"]
    assert sections[0][1][:4] == [
        "Event sources",
        "Event types",
        "Quarantined events",
        "Identification points",
    ]
    assert sections[1][1][:7] == [
        "Profiles",
        "Sessions",
        "Events",
        "Entities",
        "Segments",
        "Consent types",
        "Merge records",
    ]
    assert "Erasure records" not in sections[1][1]
    assert sections[2][1][:8] == [
        "Workflows",
        "Rules",
        "Workflow runs",
        "Workflow schedules",
        "Parked runs",
        "Destinations",
        "Resources",
        "Deliveries",
    ]
    assert sections[3][1][:4] == ["Users", "Groups", "API keys", "Erasure records"]
    assert "Periodic tasks" in sections[3][1]


def test_each_user_sees_the_models_their_permissions_reach(client):
    marketer = get_user_model().objects.create_user(username="marketer", is_staff=True)
    marketer.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_profile", "view_segment", "view_apikey", "view_periodictask"]
        )
    )
    client.force_login(marketer)
    # API keys and periodic tasks follow permissions too (the Developer and Maintainer roles).
    assert _sections(client.get("/admin/")) == [
        ("Understand", ["Profiles", "Segments"]),
        ("System", ["API keys", "Periodic tasks"]),
    ]


def test_an_app_page_still_lists_its_own_models(client):
    client.force_login(get_user_model().objects.create_superuser(username="admin"))
    response = client.get("/admin/workflows/")
    assert [app["name"] for app in response.context["app_list"]] == ["Workflows"]
