from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from apps.sources.models import EventSource, RedirectLink
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


class TestCreateEventSource:
    def test_prints_only_the_new_id(self):
        out, err = run("create_event_source", "Web shop", "--bridge", "rest")

        source = EventSource.objects.get()
        assert out == f"{source.id}\n"
        assert err == ""
        assert source.name == "Web shop"
        assert source.bridge == "rest"
        assert source.enabled is True
        assert source.transitional is False
        assert source.config == {}

    def test_all_options(self):
        out, _ = run(
            "create_event_source",
            "Hooks",
            "--bridge",
            "webhook",
            "--id",
            "hooks-1",
            "--static-profile-ids",
            "--transitional",
            "--disabled",
        )

        assert out == "hooks-1\n"
        source = EventSource.objects.get(pk="hooks-1")
        assert (source.name, source.bridge, source.enabled, source.transitional) == (
            "Hooks",
            "webhook",
            False,
            True,
        )
        assert source.config == {"static_profile_id": True}
        assert source.static_profile_ids is True

    def test_bridge_defaults_to_rest(self):
        out, _ = run("create_event_source", "Web")

        assert EventSource.objects.get(pk=out.strip()).bridge == "rest"

    def test_duplicate_id_is_refused_with_a_clear_message(self):
        EventSourceFactory(id="web", name="Existing")

        with pytest.raises(CommandError) as error:
            run("create_event_source", "Other", "--id", "web")

        assert str(error.value) == (
            "An event source with id web already exists; pick another --id or omit it"
        )
        assert EventSource.objects.get().name == "Existing"

    def test_unknown_bridge_is_refused(self):
        with pytest.raises(CommandError) as error:
            run("create_event_source", "Web", "--bridge", "kafka")

        assert str(error.value) == "Unknown bridge 'kafka'; choose one of rest, webhook, redirect."
        assert not EventSource.objects.exists()

    def test_blank_name_is_refused(self):
        with pytest.raises(CommandError) as error:
            run("create_event_source", " ")

        assert str(error.value) == "name: This field cannot be blank."
        assert not EventSource.objects.exists()

    def test_too_long_id_is_refused(self):
        with pytest.raises(CommandError) as error:
            run("create_event_source", "Web", "--id", "x" * 65)

        assert str(error.value) == ("id: Ensure this value has at most 64 characters (it has 65).")
        assert not EventSource.objects.exists()


class TestCreateRedirectLink:
    def test_prints_only_the_new_id(self):
        source = EventSourceFactory(id="mail", bridge="redirect")

        out, err = run(
            "create_redirect_link",
            "Newsletter",
            "--url",
            "https://shop.example.com/sale",
            "--source",
            "mail",
            "--event-type",
            "newsletter-click",
            "--props",
            '{"campaign": "payload@params.c"}',
        )

        link = RedirectLink.objects.get()
        assert out == f"{link.id}\n"
        assert err == ""
        assert link.name == "Newsletter"
        assert link.url == "https://shop.example.com/sale"
        assert link.source == source
        assert link.event_type == "newsletter-click"
        assert link.props == {"campaign": "payload@params.c"}

    def test_defaults_and_fixed_id(self):
        EventSourceFactory(id="mail", bridge="redirect")

        out, _ = run(
            "create_redirect_link",
            "Plain",
            "--url",
            "https://example.com/",
            "--source",
            "mail",
            "--id",
            "plain-link",
        )

        assert out == "plain-link\n"
        link = RedirectLink.objects.get(pk="plain-link")
        assert (link.event_type, link.props) == ("redirect", {})

    def test_unknown_source(self):
        with pytest.raises(CommandError) as error:
            run("create_redirect_link", "X", "--url", "https://example.com/", "--source", "nope")

        assert str(error.value) == (
            "No event source with id nope; create one with "
            "`manage.py create_event_source NAME --bridge redirect`."
        )
        assert not RedirectLink.objects.exists()

    def test_source_with_another_bridge(self):
        EventSourceFactory(id="web", bridge="rest")

        with pytest.raises(CommandError) as error:
            run("create_redirect_link", "X", "--url", "https://example.com/", "--source", "web")

        assert str(error.value) == (
            "Event source 'web' has bridge 'rest'; a redirect link needs a source whose bridge "
            "is 'redirect'."
        )
        assert not RedirectLink.objects.exists()

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            (
                "[1, 2]",
                "--props must be a JSON object such as "
                '\'{"campaign": "payload@params.c"}\', not list.',
            ),
            (
                '"text"',
                "--props must be a JSON object such as "
                '\'{"campaign": "payload@params.c"}\', not str.',
            ),
            (
                "{campaign: 1}",
                "--props is not valid JSON (Expecting property name enclosed in "
                "double quotes); give a JSON object.",
            ),
        ],
    )
    def test_props_must_be_a_json_object(self, props, message):
        EventSourceFactory(id="mail", bridge="redirect")

        with pytest.raises(CommandError) as error:
            run(
                "create_redirect_link",
                "X",
                "--url",
                "https://example.com/",
                "--source",
                "mail",
                "--props",
                props,
            )

        assert str(error.value) == message
        assert not RedirectLink.objects.exists()

    def test_invalid_url(self):
        EventSourceFactory(id="mail", bridge="redirect")

        with pytest.raises(CommandError) as error:
            run("create_redirect_link", "X", "--url", "not a url", "--source", "mail")

        assert str(error.value) == "Enter a valid URL."
        assert not RedirectLink.objects.exists()

    def test_duplicate_id(self):
        EventSourceFactory(id="mail", bridge="redirect")
        run(
            "create_redirect_link",
            "A",
            "--url",
            "https://a.example/",
            "--source",
            "mail",
            "--id",
            "l1",
        )

        with pytest.raises(CommandError) as error:
            run(
                "create_redirect_link",
                "B",
                "--url",
                "https://b.example/",
                "--source",
                "mail",
                "--id",
                "l1",
            )

        assert str(error.value) == (
            "A redirect link with id l1 already exists; pick another --id or omit it"
        )
        assert RedirectLink.objects.get().name == "A"


class TestEnsureDemoSource:
    @override_settings(CDP_PUBLIC_URL="https://cdp.example.com")
    def test_creates_the_demo_source_once(self):
        first, first_err = run("ensure_demo_source")
        second, _ = run("ensure_demo_source")

        expected = (
            "Demo event source id: demo-source\n"
            "Send events to:       https://cdp.example.com/track\n"
        )
        assert first == expected
        assert second == expected
        assert first_err == ""
        source = EventSource.objects.get()
        assert (source.id, source.name, source.bridge, source.enabled) == (
            "demo-source",
            "Demo website",
            "rest",
            True,
        )

    def test_leaves_an_edited_source_alone_and_says_so(self):
        EventSourceFactory(id="demo-source", name="Renamed", enabled=False)

        out, err = run("ensure_demo_source")

        assert out.splitlines()[0] == "Demo event source id: demo-source"
        assert err == (
            "Note: the source 'demo-source' was changed since it was created (bridge rest, "
            "disabled); /track accepts it only while it is an enabled rest source.\n"
        )
        source = EventSource.objects.get()
        assert (source.name, source.enabled) == ("Renamed", False)
