"""Profiles as Tracardi-shaped documents.

A *profile document* is the plain-JSON form of a Profile in the shape of Tracardi's Profile
object, what conditions, mappings and workflow actions read and write, and what the admin
exports: {"id", "primary_id", "ids", "active", "segments", "metadata", "stats", "traits",
"interests", "consents", "aux", "data"}. Its one definition is apps.profiles.writes
(`profile_snapshot`), which also saves a changed document back (`profile_save_changes`).
"""

import copy

from apps.profiles.models import Profile, Session
from apps.profiles.writes import WRITABLE_FIELDS, profile_snapshot

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
