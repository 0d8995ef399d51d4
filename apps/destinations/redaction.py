"""Keeping a resource's credentials out of what is recorded (attempt errors and response
excerpts, shown in the admin): every form in which a secret can come back, not only the literal.

A remote that echoes the request returns the Authorization header, where basic auth is
base64("user:password") and a bearer token follows its scheme; client libraries quote URLs
(percent-encoded) and JSON bodies (escaped); SMTP logs base64 logins. A leaf module: it imports
nothing of the app.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "•••"
# Shorter strings (a port, "none") are not secrets and would mask ordinary words.
MIN_SECRET_CHARS = 4
_SCHEME_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\s+(?P<token>\S.*)$")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _logins(value: Any) -> Iterator[tuple[str, str]]:
    """(username, password) of every object holding both (webhook basic_auth, SMTP)."""
    if isinstance(value, dict):
        username, password = value.get("username"), value.get("password")
        if isinstance(username, str) and isinstance(password, str):
            yield username, password
        for item in value.values():
            yield from _logins(item)
    elif isinstance(value, list):
        for item in value:
            yield from _logins(item)


def _plain_secrets(credentials: Any) -> set[str]:
    secrets: set[str] = set()
    for value in _strings(credentials):
        secrets.add(value)
        if match := _SCHEME_VALUE.match(value):  # "Bearer <token>": the token alone too
            secrets.add(match["token"].strip())
        if "://" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            if password:
                secrets.update({password, unquote(password)})
    for username, password in _logins(credentials):
        secrets.add(f"{username}:{password}")  # basic auth
        secrets.add(f"\0{username}\0{password}")  # SMTP AUTH PLAIN
    return secrets


def _base64_forms(secret: str) -> Iterator[str]:
    encodings = ["utf-8"]
    try:
        secret.encode("latin-1")
        encodings.append("latin-1")  # requests encodes basic auth as latin-1
    except UnicodeEncodeError:
        pass
    for encoding in encodings:
        raw = secret.encode(encoding)
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            text = encoded.decode("ascii")
            yield text
            yield text.rstrip("=")


def secret_forms(credentials: Any) -> list[str]:
    """Every form of every secret of `credentials`, longest first (a longer form is replaced
    before a shorter one it contains)."""
    forms: set[str] = set()
    for secret in _plain_secrets(credentials):
        escaped = json.dumps(secret)[1:-1]
        forms.update(
            {
                secret,
                quote(secret, safe=""),
                quote_plus(secret, safe=""),
                escaped,
                escaped.replace("/", "\\/"),
                json.dumps(secret, ensure_ascii=False)[1:-1],
            }
        )
        forms.update(_base64_forms(secret))
    return sorted(
        (form for form in forms if len(form) >= MIN_SECRET_CHARS and "\0" not in form),
        key=lambda form: (-len(form), form),
    )


def redact(text: str, credentials: Any) -> str:
    """`text` with every form of every secret of `credentials` replaced by a mask."""
    return mask(text, secret_forms(credentials)) if text else text


def mask(text: str, forms: list[str]) -> str:
    """`text` with each of `forms` (from secret_forms) replaced by a mask."""
    for form in forms:
        text = text.replace(form, MASK)
    return text
