"""The hooks profiles publishes to the apps above it (DESIGN §3).

Profiles sits below events, workflows and destinations, so it never imports them; they fill
these registries in their `AppConfig.ready()` instead (explicit calls, not Django signals):

- "a profile changed": every writer of a profile calls `profile_changed` (services.changes)
  inside its own transaction, and each subscriber runs there, so what it writes (live segments,
  the pending destination sync) commits with the change or not at all.
- "a profile entered or left a segment": every recorder of segment history (services.
  segment_history) calls the subscribers with the transitions it recorded, inside the writer's
  transaction (tracking stores the `segment-entered` / `segment-left` system events there).
- "rows that follow a profile": tables whose rows belong to a profile and go with it through a
  merge (re-pointed to the survivor), an undo (pointed back) and an erasure (deleted).
- "the profile's event history": what answers the notation's aggregates over stored events
  (`count(events ...)`) for segments, in Python and in SQL; events registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db import models
from django.utils import timezone

from apps.notation import HistoryProvider, HistoryQuery


class ProfileChangeSubscriber(Protocol):
    def __call__(self, *, profile_id: str, changed_fields: Sequence[str]) -> None: ...


class SegmentTransitionSubscriber(Protocol):
    # `transitions`: apps.profiles.services.segment_history.Transition rows just recorded.
    def __call__(self, *, transitions: Sequence[Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class ProfileFollower:
    """A table whose rows follow a profile.

    - `key` names the rows in merge records (`repointed`) and erasure records (`deleted`).
    - `model` has a `profile` foreign key (nullable or not) that merges re-point.
    - `erasure_rows(profile_id, ids)` gives the rows an erasure deletes, as querysets that each
      select through an index of their own (no OR across columns, no join with another
      follower): the erasure takes them in bounded batches until they are empty. `ids` are
      every id the profile ever had.
    - `erasure_hangs_on`: (key of another follower, rows(pks)): this follower's rows that point
      at a batch of that follower's rows (the runs and deliveries of a batch of events); the
      erasure deletes them in the same transaction, just before that batch.
    - `erase_rank`: erasure deletes followers by rank, lowest first, so rows that point at
      other followers' rows (runs, deliveries -> events) go before them.
    - `after_erasure(erasure_id, ids)`: runs in the erasure's last transaction, once the rows
      are gone; returns how many deletion requests it recorded (destinations forward the
      erasure).
    - `session_field`: the field naming the session, when the rows also belong to a session
      (the admin counts them per session).
    - `before_merge(merged_ids, survivor_id)`: runs before the merged profiles' rows are
      re-pointed (e.g. pending syncs of the merged profiles are dropped: the survivor's own
      sync, scheduled by the merge, supersedes them).
    """

    key: str
    model: type[models.Model]
    erasure_rows: Callable[[str, list[str]], Sequence[models.QuerySet]]
    erasure_hangs_on: tuple[str, Callable[[list[Any]], models.QuerySet]] | None = None
    erase_rank: int = 0
    session_field: str | None = None
    before_merge: Callable[[list[str], str], None] | None = None
    after_erasure: Callable[[str, list[str]], int] | None = None


_change_subscribers: list[ProfileChangeSubscriber] = []
_transition_subscribers: list[SegmentTransitionSubscriber] = []
_followers: dict[str, ProfileFollower] = {}


def profile_change_subscribe(subscriber: ProfileChangeSubscriber) -> None:
    """Run `subscriber(profile_id=..., changed_fields=[...])` after every profile change, inside
    the writer's transaction, in the order of subscription. Call from AppConfig.ready()."""
    if subscriber not in _change_subscribers:
        _change_subscribers.append(subscriber)


def profile_change_subscribers() -> tuple[ProfileChangeSubscriber, ...]:
    return tuple(_change_subscribers)


def segment_transition_subscribe(subscriber: SegmentTransitionSubscriber) -> None:
    """Run `subscriber(transitions=[...])` after every recorded batch of segment entries and
    exits, inside the writer's transaction. Call from AppConfig.ready()."""
    if subscriber not in _transition_subscribers:
        _transition_subscribers.append(subscriber)


def segment_transition_subscribers() -> tuple[SegmentTransitionSubscriber, ...]:
    return tuple(_transition_subscribers)


def profile_follower_register(follower: ProfileFollower) -> None:
    """Make `follower`'s rows follow their profile. Call from AppConfig.ready()."""
    _followers[follower.key] = follower


def profile_followers() -> tuple[ProfileFollower, ...]:
    return tuple(_followers.values())


def profile_follower(key: str) -> ProfileFollower | None:
    return _followers.get(key)


class HistorySql(Protocol):
    def __call__(
        self,
        query: HistoryQuery,
        *,
        profile_id_sql: str,
        now_sql: str,
        param: Callable[[Any], str],
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class EventHistory:
    """What answers aggregates over a profile's stored events.

    - `provider(profile_id, now)`: a notation HistoryProvider for one profile, caching its
      answers for its life (one evaluation).
    - `sql(query, profile_id_sql=..., now_sql=..., param=...)`: a jsonb SQL expression for one
      aggregate over the events of the profile whose id is `profile_id_sql`; values go through
      `param`, which returns a named placeholder.
    """

    provider: Callable[[str, datetime], HistoryProvider]
    sql: HistorySql


_event_history: list[EventHistory] = []


def event_history_register(history: EventHistory) -> None:
    """Answer aggregates over stored events with `history`. Call from AppConfig.ready()."""
    _event_history[:] = [history]


def event_history() -> EventHistory | None:
    return _event_history[0] if _event_history else None


def profile_history(*, profile_id: str, now: datetime | None = None) -> HistoryProvider | None:
    """A provider of the profile's event history for one evaluation (None without the events
    app: aggregates then raise, and the condition does not hold)."""
    history = event_history()
    return history.provider(profile_id, now or timezone.now()) if history else None
