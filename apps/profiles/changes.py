"""What follows a profile change, in one place.

Every writer of a profile (workflow run, event mapping, merge, admin edit, import) calls
`profile_changed` after its transaction commits, naming the changed top-level dot paths
(e.g. ["traits.plan", "data.contact.email.main"]). Live segmentation and destination syncs
hook in here.
"""

from collections.abc import Sequence

from apps.destinations.services import profile_deliveries_schedule


def profile_changed(*, profile_id: str, changed_fields: Sequence[str]) -> None:
    # Destinations: upsert the one pending, debounced sync per enabled profile destination.
    profile_deliveries_schedule(profile_id=profile_id, changed_fields=changed_fields)
