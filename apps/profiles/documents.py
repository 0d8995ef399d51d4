"""Profiles and sessions as Tracardi-shaped documents, and the one builder of a new profile.

A *profile document* is the plain-JSON form of a Profile in the shape of Tracardi's Profile
object, what conditions, mappings and workflow actions read and write, and what the admin
exports: {"id", "primary_id", "ids", "active", "segments", "metadata", "stats", "traits",
"interests", "consents", "aux", "data"}. Writers change a copy and save it back with
`apps.profiles.services.writes.profile_save_changes`.

A leaf module: it imports only this app's models, so every app may render these shapes.
"""

import copy
from datetime import datetime

from django.utils import timezone

from apps.profiles.models import Entity, Profile, Session, empty_profile_data

# The top-level keys of a profile document, each stored in the column of the same name.
DOCUMENT_FIELDS = (
    "primary_id",
    "ids",
    "active",
    "segments",
    "metadata",
    "stats",
    "traits",
    "interests",
    "consents",
    "aux",
    "data",
)


def profile_document(profile: Profile) -> dict:
    """The profile as a plain dict in Tracardi's shape; a deep copy, safe to change."""
    return copy.deepcopy(profile_row_document(profile))


def profile_row_document(profile: Profile) -> dict:
    """The same document sharing the row's values (no copy): for a row just read that
    nothing else holds (the worker's and the /track request's batches)."""
    return profile_document_of(profile.id, *(getattr(profile, field) for field in DOCUMENT_FIELDS))


def profile_document_of(
    profile_id,
    primary_id,
    ids,
    active,
    segments,
    metadata,
    stats,
    traits,
    interests,
    consents,
    aux,
    data,
) -> dict:
    """The same document from column values in DOCUMENT_FIELDS order, sharing them (no copy):
    for values just read that nothing else holds (exports stream millions of rows)."""
    return {
        "id": profile_id,
        "primary_id": primary_id,
        "ids": list(ids or []),
        "active": active,
        "segments": list(segments or []),
        "metadata": metadata or {},
        "stats": stats or {},
        "traits": traits or {},
        "interests": interests or {},
        "consents": consents or {},
        "aux": aux or {},
        "data": data or {},
    }


def new_profile_metadata(now: datetime) -> dict:
    """A new profile's metadata: inserted, created and updated now, no visit counted yet."""
    iso = now.isoformat()
    return {
        "time": {
            "insert": iso,
            "create": iso,
            "update": iso,
            "visit": {"last": None, "current": None, "count": 0, "tz": None},
        },
        "fields": {},
    }


def profile_new(*, profile_id: str, now: datetime) -> Profile:
    """A new, empty profile (not saved): created now, no visit counted yet."""
    return Profile(
        id=profile_id,
        created=now,
        updated=now,
        visit_count=0,
        metadata=new_profile_metadata(now),
        data=empty_profile_data(),
    )


def empty_profile_document(profile_id: str, *, now: datetime | None = None) -> dict:
    """A profile that is not stored (saveProfile=false, a test run), in the same shape."""
    return profile_document(profile_new(profile_id=profile_id, now=now or timezone.now()))


def session_document(session: Session) -> dict:
    """The session as a plain dict in Tracardi's shape; a deep copy, safe to change."""
    return copy.deepcopy(session_document_of(session))


def session_document_of(session: Session) -> dict:
    """The same document sharing the row's values (no copy): for a row just read that
    nothing else holds (the worker's and the /track request's batches)."""
    return {
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


def entity_document(entity: Entity) -> dict:
    """An entity in the shape of Tracardi's entity record; a deep copy, safe to change."""
    return copy.deepcopy(
        {
            "id": entity.pk,
            "type": entity.type,
            "profile": {"id": entity.profile_id} if entity.profile_id else None,
            "properties": entity.properties,
            "traits": entity.traits,
            "metadata": {
                "time": {
                    "insert": entity.created.isoformat(),
                    "create": entity.created.isoformat(),
                    "update": entity.updated.isoformat(),
                }
            },
        }
    )
