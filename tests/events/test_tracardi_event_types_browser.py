"""The new predefined event types (issue 19) as a marketer sees them in the admin: listed as
predefined, with their mapping rows (the `delete` operation reads as a sentence). Screenshots
go to /tmp/shots-event-types/ for a person to look at."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.events.models import EventType, EventTypeMapping
from apps.events.predefined import predefined_event_types_install

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-event-types")

# The condition builder tests' fixtures: a staff user, and a logged-in page.


def test_loyalty_card_removed_shows_its_delete_rules(page, live_server):
    predefined_event_types_install(event_type_model=EventType, mapping_model=EventTypeMapping)
    SHOTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/admin/events/eventtype/?predefined__exact=1&q=loyalty")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.screenshot(path=str(SHOTS / "01-list.png"))
    kind = EventType.objects.get(type="loyalty-card-removed")
    page.goto(f"{live_server.url}/admin/events/eventtype/{kind.pk}/change/")

    for index in range(4):
        expect(
            page.locator(f"select[name='mappings-{index}-operation'] option:checked")
        ).to_have_text("Delete the profile field")
    expect(page.locator("select[name='mappings-4-operation'] option:checked")).not_to_have_text(
        "Delete the profile field"
    )
    expect(page.locator("input[name='mappings-0-profile_path']")).to_have_value(
        "data.loyalty.card.id"
    )
    page.locator("select[name='mappings-0-operation']").scroll_into_view_if_needed()
    expect(page.get_by_text("profile@data.loyalty.card.id (delete)")).to_be_visible()
    page.screenshot(path=str(SHOTS / "02-loyalty-card-removed.png"), full_page=True)
