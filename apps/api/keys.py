"""Creating, checking and revoking API keys (the only writers of ApiKey)."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.api.models import ApiKey
from apps.api.scopes import unknown_scopes

KEY_PREFIX = "cdp_"
# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class KeyRefused(Exception):
    """A key that does not authenticate; the message says why, for the 401."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def api_key_create(
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    created_by=None,
) -> tuple[ApiKey, str]:
    """A new key and its plain text, which is never stored and cannot be shown again."""
    if not name.strip():
        raise ValueError("An API key needs a name.")
    if not scopes:
        raise ValueError("An API key needs at least one scope.")
    unknown = unknown_scopes(scopes)
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}.")
    prefix = secrets.token_hex(4)
    plain = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        key_hash=_hash(plain),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=created_by,
    )
    return key, plain


def api_key_check(plain: str, *, now: datetime | None = None) -> ApiKey:
    """The key `plain` names, if it may be used now; KeyRefused says why not."""
    now = now or timezone.now()
    prefix = plain[len(KEY_PREFIX) :].split("_", 1)[0] if plain.startswith(KEY_PREFIX) else ""
    key = ApiKey.objects.filter(prefix=prefix).first() if prefix else None
    if key is None or not hmac.compare_digest(key.key_hash, _hash(plain)):
        raise KeyRefused(
            "This API key is not recognised: check it was copied whole, or create a new one "
            "in the admin (System → API keys)."
        )
    if key.revoked_at is not None:
        raise KeyRefused(f"This API key ({key.name}) was revoked on {_when(key.revoked_at)}.")
    if key.expires_at is not None and key.expires_at <= now:
        raise KeyRefused(f"This API key ({key.name}) expired on {_when(key.expires_at)}.")
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_keys_revoke(*, key_ids: list[str]) -> int:
    """Revoke the keys not revoked yet; returns how many were."""
    with transaction.atomic():
        return ApiKey.objects.filter(pk__in=key_ids, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
