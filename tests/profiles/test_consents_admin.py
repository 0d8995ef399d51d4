"""The consent types admin (list, add with a readable id check, edit) and the profile page's
consents and consent history."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from apps.profiles.models import ConsentChange, ConsentType
from tests.profiles.factories import ProfileFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/profiles/consenttype/"
ADD_URL = "/admin/profiles/consenttype/add/"


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def form_data(**fields):
    return {
        "id": "marketing",
        "name": "Newsletter",
        "description": "News and offers by e-mail, at most once a week.",
        "enabled": "on",
        "revokable": "on",
        "auto_revoke_days": "365",
        **fields,
    }


def test_the_list_shows_what_each_type_means(staff_client):
    ConsentType.objects.create(id="marketing", name="Newsletter", auto_revoke_days=365)
    ConsentType.objects.create(id="cookies", name="Necessary cookies", required=True)

    page = staff_client.get(LIST_URL).content.decode()

    for header in ("Name", "Id", "Enabled", "Required", "Revokable"):
        assert f">{header}</a>" in page
    assert ">Auto-revoke</a>" in page
    assert '<td class="field-id">marketing</td>' in page
    assert '<td class="field-auto_revoke">after 365 days</td>' in page
    assert '<td class="field-auto_revoke">never</td>' in page
    # Listed in the Understand group, with profiles and segments.
    index = staff_client.get("/admin/").content.decode()
    understand = index[index.index(">Understand<") : index.index(">Activate<")]
    assert "Consent types" in understand


def test_add_a_consent_type(staff_client):
    response = staff_client.post(ADD_URL, form_data())

    assert response.status_code == 302
    saved = ConsentType.objects.get()
    assert (saved.pk, saved.name, saved.enabled, saved.revokable, saved.required) == (
        "marketing",
        "Newsletter",
        True,
        True,
        False,
    )
    assert (saved.default_granted, saved.auto_revoke_days) == (False, 365)


@pytest.mark.parametrize(
    ("consent_id", "error"),
    [
        (
            "Marketing Mails",
            "&#x27;Marketing Mails&#x27; cannot be an id: use lower-case letters, digits, "
            "&#x27;-&#x27; or &#x27;_&#x27;, starting with a letter or digit, e.g. marketing or "
            "cookies-statistics.",
        ),
        ("-x", "&#x27;-x&#x27; cannot be an id"),
    ],
)
def test_a_bad_id_is_refused_with_a_readable_error(staff_client, consent_id, error):
    response = staff_client.post(ADD_URL, form_data(id=consent_id))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ConsentType.objects.exists()


def test_a_taken_id_names_the_type_that_has_it(staff_client):
    ConsentType.objects.create(id="marketing", name="Offers")

    response = staff_client.post(ADD_URL, form_data(name="Newsletter"))

    assert response.status_code == 200
    assert (
        "The consent type &#x27;Offers&#x27; has the id &#x27;marketing&#x27; already; choose "
        "another id, or edit that type." in response.content.decode()
    )
    assert list(ConsentType.objects.values_list("name", flat=True)) == ["Offers"]


def test_zero_auto_revoke_days_is_refused(staff_client):
    response = staff_client.post(ADD_URL, form_data(auto_revoke_days="0"))

    assert "0 days would revoke every grant at once; leave it empty to never revoke." in (
        response.content.decode()
    )
    assert not ConsentType.objects.exists()


def test_editing_keeps_the_id_and_changes_the_rest(staff_client):
    ConsentType.objects.create(id="marketing", name="Newsletter")
    url = "/admin/profiles/consenttype/marketing/change/"

    page = staff_client.get(url).content.decode()
    response = staff_client.post(url, form_data(id="other", name="Weekly news", revokable=""))

    assert '<div class="readonly">marketing</div>' in page
    assert "Revoke a grant this many days after it was given. Empty: never." in page
    assert response.status_code == 302
    assert list(ConsentType.objects.values_list("pk", "name", "revokable")) == [
        ("marketing", "Weekly news", False)
    ]


def test_the_profile_page_shows_consents_with_dates_and_the_history(staff_client):
    ConsentType.objects.create(id="marketing", name="Newsletter", auto_revoke_days=30)
    profile = ProfileFactory(
        id="p-consents",
        consents={
            "marketing": {"grant": "2026-05-01T09:30:00+00:00", "revoke": "2026-05-31T09:30:00Z"},
            "legacy": {"revoke": None},
        },
    )
    ConsentChange.objects.create(
        profile=profile,
        consent_type="marketing",
        action="granted",
        at=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        via="event",
        by="ev-1",
        revoke_at=datetime(2026, 5, 31, 9, 30, tzinfo=UTC),
    )
    ConsentChange.objects.create(
        profile=profile,
        consent_type="legacy",
        action="revoked",
        at=datetime(2026, 5, 2, 8, 0, tzinfo=UTC),
        via="admin",
        by="dpo@example.com",
    )

    page = staff_client.get(f"/admin/profiles/profile/{profile.pk}/change/").content.decode()

    consents = page[page.index('<table class="cdp-consents">') :]
    consents = consents[: consents.index("</table>")]
    assert " ".join(consents.split()) == (
        '<table class="cdp-consents"> <thead><tr><th>Consent</th><th>Status</th><th>Granted</th>'
        "<th>Revoked / expires</th></tr></thead> <tbody> <tr> <td>legacy</td> <td>granted</td> "
        '<td>-</td> <td>never</td> </tr> <tr> <td>Newsletter <span class="quiet">(marketing)'
        "</span></td> <td>expired</td> <td>2026-05-01 09:30</td> <td>2026-05-31 09:30</td> </tr> "
        "</tbody>"
    )
    history = page[page.index('id="consent-history"') :]
    history = " ".join(history[history.index("<tbody>") : history.index("</tbody>")].split())
    assert history == (
        "<tbody> <tr> <td>2026-05-02 08:00</td> <td>legacy</td> <td>Revoked</td> "
        '<td class="cdp-wrap">An admin edit: dpo@example.com</td> <td>-</td> </tr> <tr> '
        '<td>2026-05-01 09:30</td> <td>Newsletter <span class="quiet">(marketing)</span></td> '
        '<td>Granted</td> <td class="cdp-wrap">The visitor (consent event): '
        '<a href="/admin/events/event/ev-1/change/">event ev-1</a></td> '
        "<td>2026-05-31 09:30</td> </tr>"
    )


def test_a_profile_without_consents_says_so(staff_client):
    profile = ProfileFactory(id="p-none")

    page = staff_client.get(f"/admin/profiles/profile/{profile.pk}/change/").content.decode()

    assert "No consent was granted or revoked." in page
