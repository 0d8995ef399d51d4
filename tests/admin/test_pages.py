"""Every admin page renders for a staff user with data present; others go to the login."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.admin.factories import EventFactory, ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory, RedirectLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample():
    rest = EventSourceFactory(id="web", name="Web")
    EventSourceFactory(id="hooks", name="Hooks", bridge="webhook")
    link = RedirectLinkFactory(id="promo", props={"c": "payload@params.c"})
    profile = ProfileFactory(
        id="p1",
        ids=["old-1"],
        segments=["vip"],
        traits={"plan": "gold"},
        data={"contact": {"email": {"main": "ann@example.com"}}},
    )
    session = SessionFactory(
        id="s1", profile=profile, app={"name": "Chrome", "version": "120"}, os={"name": "Linux"}
    )
    event = EventFactory(
        id="e1", source=rest, profile=profile, session=session, properties={"url": "/a"}
    )
    return {"source": rest, "link": link, "profile": profile, "session": session, "event": event}


def _page_urls(sample) -> dict[str, str]:
    return {
        "index": reverse("admin:index"),
        "sources": reverse("admin:sources_eventsource_changelist"),
        "source": reverse("admin:sources_eventsource_change", args=["web"]),
        "source add": reverse("admin:sources_eventsource_add"),
        "links": reverse("admin:sources_redirectlink_changelist"),
        "link": reverse("admin:sources_redirectlink_change", args=["promo"]),
        "link add": reverse("admin:sources_redirectlink_add"),
        "profiles": reverse("admin:profiles_profile_changelist"),
        "profile": reverse("admin:profiles_profile_change", args=["p1"]),
        "sessions": reverse("admin:profiles_session_changelist"),
        "session": reverse("admin:profiles_session_change", args=["s1"]),
        "events": reverse("admin:events_event_changelist"),
        "event": reverse("admin:events_event_change", args=["e1"]),
    }


PAGES = [
    "index",
    "sources",
    "source",
    "source add",
    "links",
    "link",
    "link add",
    "profiles",
    "profile",
    "sessions",
    "session",
    "events",
    "event",
]


@pytest.mark.parametrize("page", PAGES)
def test_staff_user_sees_the_page(staff_client, sample, page):
    response = staff_client.get(_page_urls(sample)[page])

    assert response.status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_non_staff_user_is_sent_to_the_login(client, sample, page):
    user = get_user_model().objects.create_user(username="visitor")
    client.force_login(user)
    url = _page_urls(sample)[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}".replace(" ", "%20")


@pytest.mark.parametrize("page", ["events", "event", "profiles", "sessions"])
def test_anonymous_user_is_sent_to_the_login(client, sample, page):
    url = _page_urls(sample)[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('admin:login')}?next=")
