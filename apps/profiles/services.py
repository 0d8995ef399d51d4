"""Profiles as Tracardi-shaped documents, and saving a changed document back.

A *profile document* is the plain-JSON form of a Profile in the shape of Tracardi's Profile
object (what conditions, mappings and workflow actions read and write, and what the admin
exports): {"id", "primary_id", "ids", "metadata", "stats", "traits", "segments", "interests",
"consents", "active", "aux", "data"}. A *session document* and an *event document* likewise
(see apps.events.selectors.event_document).
"""

import copy
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.profiles.changes import profile_changed
from apps.profiles.models import Profile, Session

# Top-level document keys that are stored in a column of the same name.
DOCUMENT_FIELDS = (
    "primary_id",
    "ids",
    "metadata",
    "stats",
    "traits",
    "segments",
    "interests",
    "consents",
    "active",
    "aux",
    "data",
)
# The fields a document writer may change; `id` and `ids` change only through merging.
WRITABLE_FIELDS = tuple(name for name in DOCUMENT_FIELDS if name != "ids")


def profile_document(profile: Profile) -> dict:
    """A deep copy of the profile in Tracardi's shape; changing it does not touch the model."""
    document = {"id": profile.pk}
    for name in DOCUMENT_FIELDS:
        document[name] = copy.deepcopy(getattr(profile, name))
    return document


def session_document(session: Session) -> dict:
    return {
        "id": session.pk,
        "profile": {"id": session.profile_id} if session.profile_id else None,
        "metadata": copy.deepcopy(session.metadata),
        "device": copy.deepcopy(session.device),
        "os": copy.deepcopy(session.os),
        "app": copy.deepcopy(session.app),
        "utm": copy.deepcopy(session.utm),
        "context": copy.deepcopy(session.context),
        "properties": copy.deepcopy(session.properties),
    }


def profile_document_save(
    *,
    profile: Profile,
    document: dict,
    changed_paths: Sequence[str],
    now: datetime | None = None,
) -> list[str]:
    """Write a changed document back to its (locked) profile row in one UPDATE, stamping
    `metadata.fields[path]` and `metadata.time.update`; `profile_changed` runs on commit.

    Returns the top-level fields written. Call inside the transaction that locked the row.
    """
    if not changed_paths:
        return []
    now = now or timezone.now()
    iso = now.isoformat()
    metadata = document.setdefault("metadata", {})
    fields = metadata.setdefault("fields", {})
    for path in changed_paths:
        fields[path] = iso
    metadata.setdefault("time", {})["update"] = iso
    roots = {path.split(".", 1)[0].split("[", 1)[0] for path in changed_paths}
    update_fields = [name for name in WRITABLE_FIELDS if name in roots or name == "metadata"]
    for name in update_fields:
        setattr(profile, name, document[name])
    profile.updated = now
    profile.save(update_fields=[*update_fields, "updated"])
    profile_id, paths = profile.pk, list(dict.fromkeys(changed_paths))
    transaction.on_commit(lambda: profile_changed(profile_id=profile_id, changed_fields=paths))
    return update_fields
