"""What follows a profile change, in one place.

Every writer of a profile (workflow run, event mapping, merge, admin edit, import) calls
`profile_changed` after its transaction commits, naming the changed top-level dot paths
(e.g. ["traits.plan", "data.contact.email.main"]). Live segmentation and destination syncs
hook in here.
"""

from collections.abc import Sequence


def profile_changed(*, profile_id: str, changed_fields: Sequence[str]) -> None:
    return None
