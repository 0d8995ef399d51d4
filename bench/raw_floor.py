"""The raw floor of the /track benchmark: a bare WSGI app, no Django.

Per request it does the least work that storing a TrackerPayload needs: read the body, parse
the JSON, build one row per event with the same columns and about the same JSON volume as
apps.tracking stores (properties, context, metadata, request headers, tags), and write them with
ONE multi-row INSERT ... ON CONFLICT (id) DO NOTHING in its own transaction (psycopg 3,
autocommit, a prepared statement over unnest() arrays). It does no validation, no source check,
no profile or session work. The table is `bench_raw_event`, created by bench/track.py as
`LIKE events_event INCLUDING DEFAULTS INCLUDING INDEXES` (same columns and indexes, no FKs).

`lean_application` is the lean floor, the physical limit of the machine for this traffic: the
same parse and one multi-row insert per request, into `bench_lean_event` (id, profile id,
insert time, the event as one JSONB value; its primary key is its only index), so that the
figure is what a bare app can store, whatever the CDP's table carries.

Served by gunicorn exactly like cdp.wsgi: `gunicorn bench.raw_floor:application` (or
`:lean_application`), with DATABASE_URL naming the benchmark database.
"""

import os
import threading
import uuid
from datetime import UTC, datetime

import orjson
import psycopg
from psycopg.types.json import Jsonb, set_json_dumps

# One static statement: the rows travel as one array per column, so the SQL never changes
# with the number of events and the server prepares it once per connection.
INSERT_EVENTS = """
INSERT INTO bench_raw_event (
    id, type, source_id, profile_id, session_id, time, inserted, status, status_message,
    is_bot, properties, context, traits, metadata, request, tags
)
SELECT * FROM unnest(
    %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[],
    %s::timestamptz[], %s::timestamptz[], %s::varchar[], %s::text[], %s::bool[],
    %s::jsonb[], %s::jsonb[], %s::jsonb[], %s::jsonb[], %s::jsonb[], %s::jsonb[]
)
ON CONFLICT (id) DO NOTHING
"""
INSERT_LEAN_EVENTS = """
INSERT INTO bench_lean_event (id, profile_id, inserted, data)
SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[], %s::jsonb[])
ON CONFLICT (id) DO NOTHING
"""
PRIVATE_HEADERS = {"authorization", "cookie"}

set_json_dumps(orjson.dumps)
_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        _local.connection = connection
    return connection


def _headers(environ: dict) -> dict:
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return {name: value for name, value in headers.items() if name not in PRIVATE_HEADERS}


def _answer(start_response, status: str, body: object) -> list[bytes]:
    data = orjson.dumps(body)
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def _payload(environ) -> dict | None:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        payload = orjson.loads(environ["wsgi.input"].read(length))
        payload["source"]["id"]  # noqa: B018 - a body without a source is refused
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return payload


def _tracked(start_response, *, profile_id: str, session_id: str | None) -> list[bytes]:
    return _answer(
        start_response,
        "200 OK",
        {
            "task": str(uuid.uuid4()),
            "ux": [],
            "response": {},
            "events": [],
            "profile": {"id": profile_id},
            "session": {"id": session_id},
            "errors": [],
            "warnings": [],
        },
    )


def lean_application(environ, start_response):
    """The lean floor: each event as it came (with its insert time), one row of 4 columns."""
    payload = _payload(environ)
    if payload is None:
        return _answer(start_response, "400 Bad Request", {"detail": "Bad payload."})
    now = datetime.now(UTC)
    session_id = (payload.get("session") or {}).get("id")
    profile_id = (payload.get("profile") or {}).get("id") or str(uuid.uuid4())
    events = payload.get("events") or []
    if events:
        ids = [event.get("id") or str(uuid.uuid4()) for event in events]
        _connection().execute(
            INSERT_LEAN_EVENTS,
            [ids, [profile_id] * len(events), [now] * len(events), [Jsonb(e) for e in events]],
        )
    return _tracked(start_response, profile_id=profile_id, session_id=session_id)


def application(environ, start_response):
    payload = _payload(environ)
    if payload is None:
        return _answer(start_response, "400 Bad Request", {"detail": "Bad payload."})
    source_id = payload["source"]["id"]
    now = datetime.now(UTC)
    now_iso = now.isoformat()
    ip = environ.get("REMOTE_ADDR")
    session_id = (payload.get("session") or {}).get("id")
    profile_id = (payload.get("profile") or {}).get("id") or str(uuid.uuid4())
    request_block = Jsonb(
        {**(payload.get("request") or {}), "headers": _headers(environ), "ip": ip}
    )
    events = payload.get("events") or []
    columns: list[list] = [[] for _ in range(16)]
    for event in events:
        # Kept as text: PostgreSQL parses it, and one column holds one type for psycopg.
        created = (event.get("time") or {}).get("create") or now_iso
        tags = event.get("tags") or []
        row = (
            event.get("id") or str(uuid.uuid4()),
            event["type"],
            source_id,
            profile_id,
            session_id,
            created,
            now,
            "processed",
            "",
            False,
            Jsonb(event.get("properties") or {}),
            Jsonb(event.get("context") or {}),
            Jsonb(event.get("traits") or {}),
            Jsonb(
                {
                    "ip": ip,
                    "channel": "",
                    "profile_less": False,
                    "profile_id": profile_id,
                    "time": {"insert": now_iso, "create": created},
                }
            ),
            request_block,
            Jsonb({"values": tags, "count": len(tags)}),
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    if events:
        _connection().execute(INSERT_EVENTS, columns)
    return _tracked(start_response, profile_id=profile_id, session_id=session_id)
