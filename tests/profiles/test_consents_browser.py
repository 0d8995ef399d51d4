"""The consent types admin and the profile page's consents in a real browser (Debian's
Chromium through Playwright, pytest-django's live server); screenshots go to
/tmp/shots-wt-consents/ for a person to look at."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.destinations.models import Delivery, Destination, Resource
from apps.profiles.models import ConsentChange, ConsentType
from tests.profiles.factories import ProfileFactory

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-wt-consents")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_add_consent_types_and_read_them_in_the_list(page, live_server):
    ConsentType.objects.create(
        id="cookies", name="Necessary cookies", required=True, revokable=False
    )
    page.goto(f"{live_server.url}/admin/profiles/consenttype/add/")
    shot(page, "consent-type-add-empty")
    page.fill("#id_id", "Marketing Mails")
    page.fill("#id_name", "Newsletter")
    page.fill("#id_description", "News and offers by e-mail, at most once a week.")
    page.fill("#id_auto_revoke_days", "365")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("'Marketing Mails' cannot be an id")
    shot(page, "consent-type-add-bad-id")

    page.fill("#id_id", "marketing")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/profiles/consenttype/")
    expect(page.locator("#result_list")).to_contain_text("after 365 days")
    shot(page, "consent-type-list")

    page.click("text=Newsletter")
    expect(page.locator(".field-id .readonly")).to_have_text("marketing")
    shot(page, "consent-type-edit")


def test_the_profile_page_shows_consents_and_their_history(page, live_server):
    ConsentType.objects.create(id="marketing", name="Newsletter", auto_revoke_days=30)
    ConsentType.objects.create(id="analytics", name="Statistics")
    profile = ProfileFactory(
        id="p-ann",
        data={
            "pii": {"firstname": "Ann", "lastname": "Lee"},
            "contact": {"email": {"main": "ann@example.com"}},
        },
        consents={
            "marketing": {"grant": "2026-05-01T09:30:00+00:00", "revoke": "2099-05-31T09:30:00Z"},
            "analytics": {"grant": "2026-05-01T09:30:00+00:00", "revoke": None},
        },
    )
    for at, consent, action, via, by, revoke_at in (
        (
            datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
            "marketing",
            "granted",
            "event",
            "ev-1",
            datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
            "marketing",
            "revoked",
            "auto-revoke",
            "auto-revoke",
            None,
        ),
        (
            datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
            "marketing",
            "granted",
            "workflow",
            "ev-2",
            datetime(2099, 5, 31, 9, 30, tzinfo=UTC),
        ),
        (
            datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
            "analytics",
            "granted",
            "admin",
            "dpo@example.com",
            None,
        ),
    ):
        ConsentChange.objects.create(
            profile=profile,
            consent_type=consent,
            action=action,
            at=at,
            via=via,
            by=by,
            revoke_at=revoke_at,
        )

    # A destination that requires the consent skipped this person once (before the grant).
    destination = Destination.objects.create(
        name="CRM",
        resource=Resource.objects.create(name="Hook", type="webhook"),
        required_consent_id="marketing",
    )
    skipped = datetime(2026, 4, 1, 7, 0, tzinfo=UTC)
    Delivery.objects.create(
        destination=destination,
        profile=profile,
        status="skipped",
        last_error="No consent 'marketing'",
        due_at=skipped,
        first_change_at=skipped,
        latest_due_at=skipped,
        created=skipped,
        updated=skipped,
    )

    page.goto(f"{live_server.url}/admin/profiles/profile/p-ann/change/")
    expect(page.locator("table.cdp-consents")).to_contain_text("2099-05-31 09:30")
    expect(page.locator("#consent-history tbody tr")).to_have_count(4)
    page.locator(".cdp-person").screenshot(path=str(SHOTS / "profile-consents.png"))
    page.locator("#consent-history").screenshot(path=str(SHOTS / "profile-consent-history.png"))
    expect(page.locator('[data-section="deliveries"]')).to_contain_text("No consent 'marketing'")
    page.locator('[data-section="deliveries"]').screenshot(
        path=str(SHOTS / "profile-deliveries-skipped.png")
    )
    shot(page, "profile-page")
