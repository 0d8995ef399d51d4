import pytest
from django.urls import reverse

from apps.sources.models import EventSource, RedirectLink
from tests.sources.factories import EventSourceFactory, RedirectLinkFactory

pytestmark = pytest.mark.django_db

SOURCES = reverse("admin:sources_eventsource_changelist")


def _change_page(client, source_id: str) -> str:
    response = client.get(reverse("admin:sources_eventsource_change", args=[source_id]))
    assert response.status_code == 200
    return response.content.decode()


class TestEndpointsOnTheChangePage:
    @pytest.fixture(autouse=True)
    def _public_url(self, settings):
        settings.CDP_PUBLIC_URL = "https://cdp.example.com"

    def test_rest_source_shows_its_track_url(self, staff_client):
        EventSourceFactory(id="web", bridge="rest")

        content = _change_page(staff_client, "web")

        assert (
            "<tr><td>POST</td><td><code>https://cdp.example.com/track</code></td>"
            "<td>with &quot;source&quot;: {&quot;id&quot;: &quot;web&quot;} in the body</td></tr>"
        ) in content

    def test_webhook_source_shows_its_collect_url_templates(self, staff_client):
        EventSourceFactory(id="hooks", bridge="webhook")

        content = _change_page(staff_client, "hooks")

        assert "<code>https://cdp.example.com/collect/&lt;event-type&gt;/hooks</code>" in content
        assert (
            "<code>https://cdp.example.com/collect/&lt;event-type&gt;/hooks/&lt;session-id&gt;"
            "</code>"
        ) in content
        assert "/track</code>" not in content

    def test_redirect_source_links_to_its_redirect_links(self, staff_client):
        source = EventSourceFactory(id="mail", bridge="redirect")
        RedirectLinkFactory.create_batch(2, source=source)

        content = _change_page(staff_client, "mail")

        links = reverse("admin:sources_redirectlink_changelist")
        assert f'<a href="{links}?source__id__exact=mail">2 redirect link(s)</a>' in content

    def test_id_is_read_only_once_created(self, staff_client):
        EventSourceFactory(id="web")

        content = _change_page(staff_client, "web")

        assert 'name="id"' not in content
        assert '<div class="readonly">web</div>' in content


def test_config_is_edited_as_indented_json(staff_client):
    EventSourceFactory(id="web", config={"static_profile_id": True})

    content = _change_page(staff_client, "web")

    assert "{\n  &quot;static_profile_id&quot;: true\n}</textarea>" in content


def test_add_with_a_chosen_id(staff_client):
    response = staff_client.post(
        reverse("admin:sources_eventsource_add"),
        {
            "id": "shop",
            "name": "Shop",
            "description": "",
            "bridge": "webhook",
            "enabled": "on",
            "channel": "",
            "tags": "",
            "config": '{"generate_profile": true}',
        },
    )

    assert response.status_code == 302
    source = EventSource.objects.get(pk="shop")
    assert (source.name, source.bridge, source.enabled, source.transitional) == (
        "Shop",
        "webhook",
        True,
        False,
    )
    assert source.config == {"generate_profile": True}


def test_list_filters_and_search(staff_client):
    EventSourceFactory(id="web", name="Web shop", bridge="rest")
    EventSourceFactory(id="hooks", name="CRM hooks", bridge="webhook", enabled=False)

    def ids(params):
        response = staff_client.get(SOURCES, params)
        return sorted(source.pk for source in response.context["cl"].result_list)

    assert ids({"bridge__exact": "webhook"}) == ["hooks"]
    assert ids({"enabled__exact": "0"}) == ["hooks"]
    assert ids({"q": "shop"}) == ["web"]
    assert ids({"q": "hook"}) == ["hooks"]


@pytest.mark.parametrize(
    ("action", "enabled"), [("disable_sources", False), ("enable_sources", True)]
)
def test_enable_and_disable_actions(staff_client, action, enabled):
    EventSourceFactory(id="a", enabled=not enabled)
    EventSourceFactory(id="b", enabled=not enabled)
    EventSourceFactory(id="c", enabled=not enabled)

    response = staff_client.post(
        SOURCES, {"action": action, "_selected_action": ["a", "b"]}, follow=True
    )

    state = "enabled" if enabled else "disabled"
    messages = [str(message) for message in response.context["messages"]]
    assert messages == [f"2 event source(s) {state}; /track sees the change within 5 s."]
    assert dict(EventSource.objects.values_list("id", "enabled")) == {
        "a": enabled,
        "b": enabled,
        "c": not enabled,
    }


class TestRedirectLinks:
    def test_change_page_shows_the_public_url(self, staff_client, settings):
        settings.CDP_PUBLIC_URL = "https://cdp.example.com"
        RedirectLinkFactory(id="promo", props={"campaign": "payload@params.c"})

        response = staff_client.get(reverse("admin:sources_redirectlink_change", args=["promo"]))

        content = response.content.decode()
        assert "<code>https://cdp.example.com/redirect/promo</code>" in content
        assert "{\n  &quot;campaign&quot;: &quot;payload@params.c&quot;\n}</textarea>" in content

    def test_list_and_search(self, staff_client):
        RedirectLinkFactory(id="promo", name="Spring promo", url="https://shop.example/spring")
        RedirectLinkFactory(id="news", name="Newsletter")

        response = staff_client.get(
            reverse("admin:sources_redirectlink_changelist"), {"q": "spring"}
        )

        assert [link.pk for link in response.context["cl"].result_list] == ["promo"]

    def test_source_must_have_the_redirect_bridge(self, staff_client):
        EventSourceFactory(id="web", bridge="rest")

        response = staff_client.post(
            reverse("admin:sources_redirectlink_add"),
            {
                "id": "x",
                "name": "X",
                "description": "",
                "url": "https://example.com/",
                "source": "web",
                "event_type": "redirect",
                "props": "{}",
                "tags": "",
            },
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {
            "source": ["Select a valid choice. That choice is not one of the available choices."]
        }
        assert not RedirectLink.objects.exists()
