"""What follows a profile change, in one place.

Every writer of a profile (workflow run, event mapping, merge and undo, admin edit, segments)
calls `profile_changed` inside its own transaction, naming the changed dot paths (e.g.
["traits.plan", "data.contact.email.main"]). Each subscriber (live segments, then destination
syncs; see apps.profiles.hooks) runs right there, so what it writes commits with the change or
not at all: a process that dies after the commit has lost nothing.
"""

from collections.abc import Sequence

from apps.profiles.hooks import profile_change_subscribers


def profile_changed(*, profile_id: str, changed_fields: Sequence[str]) -> None:
    for subscriber in profile_change_subscribers():
        subscriber(profile_id=profile_id, changed_fields=changed_fields)
