"""Profiles as Tracardi-shaped documents.

A *profile document* is the plain-JSON form of a Profile in the shape of Tracardi's Profile
object, what conditions, mappings and workflow actions read and write, and what the admin
exports: {"id", "primary_id", "ids", "active", "segments", "metadata", "stats", "traits",
"interests", "consents", "aux", "data"}. Its one definition is apps.profiles.writes
(`profile_snapshot`), which also saves a changed document back (`profile_save_changes`).
"""

import copy
import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.profiles.models import Profile, Session
from apps.profiles.writes import WRITABLE_FIELDS, profile_save_changes, profile_snapshot

logger = logging.getLogger(__name__)

# Top-level document keys, each stored in the column of the same name.
DOCUMENT_FIELDS = WRITABLE_FIELDS


def profile_document(profile: Profile) -> dict:
    """A deep copy of the profile in Tracardi's shape; changing it does not touch the model."""
    return profile_snapshot(profile)


def session_document(session: Session) -> dict:
    return copy.deepcopy(
        {
            "id": session.pk,
            "profile": {"id": session.profile_id} if session.profile_id else None,
            "metadata": session.metadata,
            "device": session.device,
            "os": session.os,
            "app": session.app,
            "utm": session.utm,
            "context": session.context,
            "properties": session.properties,
        }
    )


# Top-level profile objects a person may replace by hand (the admin's edit page), and their
# expected types. The rest (ids, segments, metadata, stats) is kept by the CDP itself.
EDITABLE_FIELDS: dict[str, type] = {
    "active": bool,
    "traits": dict,
    "interests": dict,
    "consents": dict,
    "aux": dict,
    "data": dict,
}


def profile_edit(*, profile_id: str, changes: dict, actor: str) -> list[str]:
    """Replace some of a profile's top-level objects (see EDITABLE_FIELDS) by hand; return the
    changed dot paths (empty when nothing changed).

    Saved through profile_save_changes, like every other writer, so the changed paths are
    stamped in metadata.fields and `profile_changed` (live segments, destination syncs) runs
    after the commit. Raises ValidationError naming the field for a value of the wrong type,
    and Profile.DoesNotExist for an unknown id; nothing is written then.
    """
    errors = {}
    for field, value in changes.items():
        expected = EDITABLE_FIELDS.get(field)
        if expected is None:
            errors[field] = [
                f"'{field}' cannot be edited; editable fields: {', '.join(EDITABLE_FIELDS)}."
            ]
        elif not isinstance(value, expected):
            kind = "true or false" if expected is bool else "a JSON object ({...})"
            errors[field] = [f"'{field}' must be {kind}, not {type(value).__name__}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        try:
            profile = Profile.objects.select_for_update().get(pk=profile_id)
        except Profile.DoesNotExist:
            raise Profile.DoesNotExist(f"No profile with id {profile_id!r}.") from None
        before = profile_snapshot(profile)
        after = {**profile_snapshot(profile), **copy.deepcopy(changes)}
        changed = profile_save_changes(profile_id=profile_id, before=before, after=after)
    if changed:
        logger.info("Profile %s edited by %s: %s", profile_id, actor, ", ".join(changed))
    return changed
