"""What a report can be about: the tables, their time column and the fields a filter, a group
and a metric may name. Table and column names reach SQL text only from here (constants); every
value a user gives is a query parameter."""

from __future__ import annotations

from dataclasses import dataclass

from apps.events.models import Event
from apps.profiles.models import Entity, Profile, Session
from apps.profiles.segment_sql import PROFILE_JSON_COLUMNS


@dataclass(frozen=True)
class Subject:
    key: str
    label: str
    # The notation source a filter names the row by (an entity is what Load entity puts in the
    # payload, so entity filters read payload@type, payload@properties.total).
    source: str
    table: str
    # The column the time window applies to.
    time_column: str
    json_columns: tuple[str, ...]
    # Field name a user writes -> the column: scalar columns (text, number, boolean).
    plain_columns: dict[str, str]
    # Plain columns that hold numbers (a metric may sum them), and those that are not text.
    number_columns: frozenset[str] = frozenset()
    not_text_columns: frozenset[str] = frozenset()

    @property
    def text_columns(self) -> frozenset[str]:
        return frozenset(self.plain_columns) - self.not_text_columns

    @property
    def fields_hint(self) -> str:
        return ", ".join([*self.plain_columns, *(f"{c}.<key>" for c in self.json_columns)])


SUBJECTS: dict[str, Subject] = {
    subject.key: subject
    for subject in (
        Subject(
            key="event",
            source="event",
            label="Events",
            table=Event._meta.db_table,
            time_column="time",
            json_columns=("properties", "context", "traits", "metadata", "request", "tags"),
            plain_columns={
                "id": "id",
                "type": "type",
                "source": "source_id",
                "profile": "profile_id",
                "session": "session_id",
                "status": "status",
                "is_bot": "is_bot",
            },
            not_text_columns=frozenset({"is_bot"}),
        ),
        Subject(
            key="profile",
            source="profile",
            label="Profiles",
            table=Profile._meta.db_table,
            time_column="created",
            json_columns=PROFILE_JSON_COLUMNS,
            plain_columns={
                "id": "id",
                "primary_id": "primary_id",
                "active": "active",
                "visit_count": "visit_count",
            },
            number_columns=frozenset({"visit_count"}),
            not_text_columns=frozenset({"active", "visit_count"}),
        ),
        Subject(
            key="session",
            source="session",
            label="Sessions",
            table=Session._meta.db_table,
            time_column="created",
            json_columns=("metadata", "device", "os", "app", "utm", "context", "properties"),
            plain_columns={
                "id": "id",
                "profile": "profile_id",
                "status": "status",
                "is_bot": "is_bot",
            },
            not_text_columns=frozenset({"is_bot"}),
        ),
        Subject(
            key="entity",
            source="payload",
            label="Entities",
            table=Entity._meta.db_table,
            time_column="created",
            json_columns=("properties", "traits"),
            plain_columns={"id": "id", "type": "type", "profile": "profile_id"},
        ),
    )
}
SUBJECT_CHOICES = [(subject.key, subject.label) for subject in SUBJECTS.values()]
