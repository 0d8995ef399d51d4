"""Deterministic profile and session ids for webhook sources (Tracardi's hashed ids).

A webhook source with `generate_profile` gives an event that names a person (its type's
mapping copies an e-mail, a phone or an identifier into the profile) a profile id derived from
that value, so that repeated webhooks about one person land on one profile without a session.
The id is Tracardi's: `<prefix>-<md5 of "<key>-<value>" as a UUID>`, with the prefix of the
profile field (`emm` for data.contact.email.main...) and the key CDP_PROFILE_ID_HASH_KEY
(Tracardi's AUTO_PROFILE_MERGING), so a site moving from Tracardi keeps its people's ids.
With `sticky_session` (the default, as in Tracardi) the session id is derived from the profile
id too: the person's webhooks share one session.

No key set: no hashed ids (a random profile, as with any `generate_profile` source).
"""

import hashlib

from django.conf import settings

# Tracardi's FLAT_PROFILE_FIELD_MAPPING: the profile fields that make a hashed id, and the
# prefix of each.
HASHED_ID_PREFIXES = {
    "data.identifier.pk": "ipk",
    "data.identifier.id": "iid",
    "data.contact.phone.main": "phm",
    "data.contact.phone.business": "phb",
    "data.contact.phone.whatsapp": "pwa",
    "data.contact.phone.mobile": "pho",
    "data.contact.email.main": "emm",
    "data.contact.email.private": "emp",
    "data.contact.email.business": "emb",
}


def _uuid_form(digest: str) -> str:
    return f"{digest[0:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def hashed_profile_id(*, profile_path: str, value: object) -> str | None:
    """Tracardi's hashed id of `value` as the profile field `profile_path` (None: no key)."""
    key = settings.CDP_PROFILE_ID_HASH_KEY
    if not key:
        return None
    return f"{HASHED_ID_PREFIXES[profile_path]}-{_uuid_form(_md5(f'{key}-{value}'))}"


def sticky_session_id(profile_id: str) -> str:
    """The session id all webhooks about the person of `profile_id` share."""
    return _uuid_form(_md5(f"{settings.CDP_PROFILE_ID_HASH_KEY}:{profile_id}"))
