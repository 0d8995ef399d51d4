"""A rule that requires a consent: its workflow runs only for profiles that hold it; for the
others a skipped run with the reason is recorded and the event still ends processed."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import ConsentType, Profile
from apps.tracking.processing import profile_events_process
from apps.workflows.models import WorkflowRun
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing():
    return ConsentType.objects.create(id="marketing", name="Newsletter")


def tagging_workflow():
    """Sets profile@traits.tagged, so a run that did happen shows on the profile."""
    return WorkflowFactory(
        graph=linear_graph(("copy_data", {"traits": {"set": {"profile@traits.tagged": "yes"}}}))
    )


def runs():
    return list(WorkflowRun.objects.values_list("status", "error", "log", "rule_ids"))


def test_without_the_consent_the_run_is_recorded_as_skipped(marketing):
    rule = RuleFactory(
        workflow=tagging_workflow(), event_type="purchase", required_consent=marketing
    )
    profile = ProfileFactory(consents={"analytics": {"grant": None, "revoke": None}})
    event = EventFactory(profile=profile, type="purchase")

    profile_events_process(profile_id=profile.pk)

    assert runs() == [("skipped", "No consent 'marketing'", [], [rule.id])]
    event.refresh_from_db()
    assert (event.status, event.status_message) == (Event.Status.PROCESSED, "")
    assert Profile.objects.get(pk=profile.pk).traits == {}


def test_with_the_consent_the_workflow_runs(marketing):
    RuleFactory(workflow=tagging_workflow(), event_type="purchase", required_consent=marketing)
    profile = ProfileFactory(
        consents={"marketing": {"grant": "2026-01-01T00:00:00+00:00", "revoke": None}}
    )
    EventFactory(profile=profile, type="purchase")

    profile_events_process(profile_id=profile.pk)

    assert [(status, error) for status, error, *_ in runs()] == [("ok", "")]
    assert Profile.objects.get(pk=profile.pk).traits == {"tagged": "yes"}


def test_an_expired_consent_does_not_count(marketing):
    RuleFactory(workflow=tagging_workflow(), event_type="purchase", required_consent=marketing)
    expired = (timezone.now() - timedelta(seconds=1)).isoformat()
    profile = ProfileFactory(consents={"marketing": {"grant": None, "revoke": expired}})
    EventFactory(profile=profile, type="purchase")

    profile_events_process(profile_id=profile.pk)

    assert [(status, error) for status, error, *_ in runs()] == [
        ("skipped", "No consent 'marketing'")
    ]


def test_a_consent_given_earlier_in_the_batch_lets_the_workflow_run(marketing):
    RuleFactory(workflow=tagging_workflow(), event_type="purchase", required_consent=marketing)
    profile = ProfileFactory()
    now = timezone.now()
    EventFactory(
        profile=profile,
        type="consent-given",
        properties={"consents": {"marketing": True}},
        time=now - timedelta(seconds=2),
    )
    EventFactory(profile=profile, type="purchase", time=now - timedelta(seconds=1))

    profile_events_process(profile_id=profile.pk)

    assert [(status, error) for status, error, *_ in runs()] == [("ok", "")]


def test_a_rule_without_a_required_consent_lets_the_shared_workflow_run(marketing):
    workflow = tagging_workflow()
    RuleFactory(
        name="a gated", workflow=workflow, event_type="purchase", required_consent=marketing
    )
    RuleFactory(name="b open", workflow=workflow, event_type="purchase")
    profile = ProfileFactory()
    EventFactory(profile=profile, type="purchase")

    profile_events_process(profile_id=profile.pk)

    assert [(status, error) for status, error, *_ in runs()] == [("ok", "")]


def test_the_rule_form_offers_the_consent_and_the_run_list_filters_skipped_runs(client, marketing):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))

    RuleFactory(name="Gated", event_type="purchase", required_consent=marketing)
    form = client.get("/admin/workflows/rule/add/").content.decode()
    rules = client.get("/admin/workflows/rule/").content.decode()
    listing = client.get("/admin/workflows/workflowrun/").content.decode()

    assert '<label for="id_required_consent">Required consent:</label>' in form
    assert '<option value="marketing">Newsletter</option>' in form
    assert "Run the workflow only for profiles that granted this consent" in form
    assert "Skipped (no consent)" in listing
    assert ">Requires consent</a>" in rules
    assert '<td class="field-consent_needed">marketing</td>' in rules
