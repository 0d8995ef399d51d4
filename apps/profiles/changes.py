"""What follows a profile change, in one place.

Every writer of a profile (workflow run, event mapping, merge, admin edit, import) calls
`profile_changed` after its transaction commits, naming the changed top-level dot paths
(e.g. ["traits.plan", "data.contact.email.main"]). Live segmentation and destination syncs
hook in here.
"""

from collections.abc import Sequence


def profile_changed(*, profile_id: str, changed_fields: Sequence[str]) -> None:
    # Live segments: re-evaluated on every change but one of the segments alone (what
    # segmentation itself reports, so it ends there). Imported here: segments imports the
    # profile services, which import this module.
    from apps.profiles.segments import segments_refresh_live

    segments_refresh_live(profile_id=profile_id, changed_fields=changed_fields)
    # Destinations: upsert the one pending, debounced sync per enabled profile destination.
    # Imported here for the same reason (destinations render the profile services' documents).
    from apps.destinations.services import profile_deliveries_schedule

    profile_deliveries_schedule(profile_id=profile_id, changed_fields=changed_fields)
