"""Where a person lands: the root URL and the admin's "View site" link."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_the_root_leads_to_the_admin(client):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_view_site_opens_the_tracker_demo_which_staff_can_see(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    index = client.get("/admin/").content.decode()
    assert '<a href="/tracker/demo/">View site</a>' in index
    assert client.get("/tracker/demo/").status_code == 200
