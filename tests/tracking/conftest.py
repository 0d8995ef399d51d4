import json

import pytest
from django.test import Client

from apps.sources.models import EventSource
from apps.sources.services import event_source_create

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def rest_source(db) -> EventSource:
    return event_source_create(name="Web", source_id="web-source")


@pytest.fixture
def webhook_source(db) -> EventSource:
    return event_source_create(name="Hook", bridge="webhook", source_id="hook-source")


@pytest.fixture
def api():
    return TrackClient()


class TrackClient:
    def __init__(self) -> None:
        self.client = Client(HTTP_USER_AGENT=CHROME_UA)

    def track(self, payload, *, query: str = "", **extra):
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        extra.setdefault("content_type", "application/json")
        return self.client.post(f"/track{query}", data=body, **extra)


def payload(source_id="web-source", events=None, session=None, profile=None, **rest) -> dict:
    body = {"source": {"id": source_id}, "events": events if events is not None else []}
    if session is not None:
        body["session"] = {"id": session}
    if profile is not None:
        body["profile"] = {"id": profile}
    body.update(rest)
    return body
