import time
from datetime import timedelta

import pytest
from django.db import InternalError, connection
from django.utils import timezone

from apps.events.models import Event
from apps.reports.definition import ReportError
from apps.reports.running import read_only_cursor, report_run
from apps.reports.subjects import SUBJECTS
from tests.events.factories import EventFactory
from tests.profiles.factories import EntityFactory, ProfileFactory, SessionFactory
from tests.reports.factories import make_report
from tests.support.database import other_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchases():
    """Five purchases: PL 10, 20.5, 30 and DE 5, plus one without a total; a page view."""
    now = timezone.now()
    rows = [
        ("PL", 10, 1),
        ("PL", 20.5, 2),
        ("PL", 30, 3),
        ("DE", 5, 4),
        ("DE", None, 5),
    ]
    for country, total, days_ago in rows:
        properties = {"country": country}
        if total is not None:
            properties["total"] = total
        EventFactory(type="purchase", properties=properties, time=now - timedelta(days=days_ago))
    EventFactory(type="page-view", properties={"country": "PL", "total": 1000})
    return now


def rows(report, **parameters):
    return report_run(report=report, parameters=parameters).rows


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("count", [("PL", 3), ("DE", 2)]),
        ("sum", [("PL", 60.5), ("DE", 5)]),
        ("avg", [("PL", 20.166666666666668), ("DE", 5)]),
        ("min", [("PL", 10), ("DE", 5)]),
        ("max", [("PL", 30), ("DE", 5)]),
    ],
)
def test_every_metric_grouped_by_a_json_field(purchases, metric, expected):
    report = make_report(
        subject="event",
        filter='event@type == "purchase"',
        group_by="properties.country",
        metric=metric,
        metric_field="" if metric == "count" else "properties.total",
    )
    assert rows(report) == expected


def test_grouping_by_a_plain_column_and_no_grouping(purchases):
    by_type = make_report(name="By type", subject="event", group_by="type")
    assert rows(by_type) == [("purchase", 5), ("page-view", 1)]
    total = make_report(
        name="Total", subject="event", metric="sum", metric_field="properties.total"
    )
    assert rows(total) == [(None, 1065.5)]


def test_time_window_last_days_and_from_to(purchases):
    last_days = make_report(name="Recent", subject="event", window_days=2, group_by="type")
    # Ties go by the group's value. Two days ago is a moment before the run's window.
    assert rows(last_days) == [("page-view", 1), ("purchase", 1)]
    between = make_report(
        name="Between",
        subject="event",
        window_from=purchases - timedelta(days=4, hours=1),
        window_to=purchases - timedelta(days=2, hours=1),
        metric="sum",
        metric_field="properties.total",
    )
    assert rows(between) == [(None, 35)]


def test_parameters_typed_with_defaults_and_given(purchases):
    report = make_report(
        subject="event",
        filter="event@type == {{kind}} AND event@properties.total >= {{min_total}}",
        group_by="properties.country",
        parameters=[
            {"name": "kind", "type": "text", "default": "purchase"},
            {"name": "min_total", "type": "number", "default": "20"},
        ],
    )
    assert rows(report) == [("PL", 2)]
    assert rows(report, min_total="5") == [("PL", 3), ("DE", 1)]
    assert rows(report, kind="page-view", min_total=1) == [("PL", 1)]
    assert report_run(report=report, parameters={"min_total": 7.5}).parameters == {
        "kind": "purchase",
        "min_total": 7.5,
    }


def test_an_injection_attempt_in_a_parameter_stays_a_literal(purchases):
    EventFactory(type='x" OR event@type == "purchase', properties={"country": "XX"})
    report = make_report(
        subject="event",
        filter="event@type == {{kind}}",
        group_by="properties.country",
        parameters=[{"name": "kind", "type": "text", "default": "purchase"}],
    )
    attack = 'x" OR event@type == "purchase'
    assert rows(report, kind=attack) == [("XX", 1)]
    sql_attack = "purchase'; DELETE FROM events_event; --"
    assert rows(report, kind=sql_attack) == []
    assert Event.objects.count() == 7


def test_bad_parameter_values_are_refused_with_the_reason(purchases):
    report = make_report(
        subject="event",
        filter="event@properties.total > {{min_total}} AND event@is_bot == {{bots}}",
        parameters=[
            {"name": "min_total", "type": "number", "required": True},
            {"name": "bots", "type": "boolean", "default": "false"},
        ],
    )
    with pytest.raises(ReportError, match="Parameter min_total needs a value for this run"):
        rows(report)
    with pytest.raises(ReportError, match=r"Parameter min_total must be a number, e\.g\. 10"):
        rows(report, min_total="ten")
    with pytest.raises(ReportError, match="Parameter bots must be true or false, not 'maybe'"):
        rows(report, min_total=1, bots="maybe")
    with pytest.raises(ReportError, match=r"no parameter colour \(its parameters: bots, min_"):
        rows(report, min_total=1, colour="red")
    # The purchase of 30 and the page view of 1000.
    assert rows(report, min_total=25) == [(None, 2)]


def test_profiles_sessions_and_entities():
    ProfileFactory(visit_count=3, traits={"plan": "pro"})
    ProfileFactory(visit_count=5, traits={"plan": "pro"})
    ProfileFactory(visit_count=1, traits={"plan": "free"})
    profiles = make_report(
        name="Visits by plan",
        subject="profile",
        group_by="traits.plan",
        metric="sum",
        metric_field="visit_count",
    )
    assert rows(profiles) == [("pro", 8), ("free", 1)]
    SessionFactory(device={"type": "mobile"})
    SessionFactory(device={"type": "mobile"})
    SessionFactory(device={"type": "desktop"})
    sessions = make_report(name="Devices", subject="session", group_by="device.type")
    assert rows(sessions) == [("mobile", 2), ("desktop", 1)]
    EntityFactory(type="order", properties={"total": 12})
    EntityFactory(type="order", properties={"total": 8})
    EntityFactory(type="car", properties={"total": 1})
    entities = make_report(
        name="Orders",
        subject="entity",
        filter='payload@type == "order"',
        metric="avg",
        metric_field="properties.total",
    )
    assert rows(entities) == [(None, 10)]


def test_row_limit_gives_a_clear_message(purchases, settings):
    settings.CDP_REPORT_ROW_LIMIT = 1
    report = make_report(subject="event", group_by="type")
    with pytest.raises(ReportError) as raised:
        rows(report)
    assert str(raised.value) == (
        "The report has more than 1 groups (CDP_REPORT_ROW_LIMIT): group by a field with "
        "fewer values, or narrow the filter or the time window."
    )
    settings.CDP_REPORT_ROW_LIMIT = 2
    assert rows(report) == [("purchase", 5), ("page-view", 1)]


def test_timeout_stops_the_query_with_a_clear_message(settings):
    """Another connection holds the entities table locked: the report waits until PostgreSQL
    stops it at the timeout."""
    settings.CDP_REPORT_TIMEOUT_MS = 200
    report = make_report(subject="entity", group_by="type")
    with other_connection(autocommit=False) as locker:
        locker.execute(f"LOCK TABLE {SUBJECTS['entity'].table} IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(ReportError) as raised:
            rows(report)
        waited = time.monotonic() - started
        locker.rollback()
    assert str(raised.value) == (
        "The report ran longer than 0.2 s and was stopped (CDP_REPORT_TIMEOUT_MS): narrow its "
        "time window or its filter."
    )
    assert waited < 5
    assert rows(report) == []


def test_a_write_is_impossible_in_the_report_transaction():
    with pytest.raises(InternalError) as raised, read_only_cursor(timeout_ms=1000) as cursor:
        cursor.execute(f"DELETE FROM {SUBJECTS['event'].table}")
    assert "cannot execute DELETE in a read-only transaction" in str(raised.value)
    # The outer transaction is writable again afterwards.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('transaction_read_only')")
        assert cursor.fetchone() == ("off",)


def test_a_parameter_as_a_whole_quoted_value_as_the_condition_builder_writes_it(purchases):
    report = make_report(
        subject="event",
        filter="event@type == \"{{kind}}\" AND event@properties.total >= '{{min_total}}'",
        group_by="properties.country",
        parameters=[
            {"name": "kind", "type": "text", "default": "purchase"},
            {"name": "min_total", "type": "number", "default": "20"},
        ],
    )
    # A number, not the text "20": 20.5 and 30 pass, as in the unquoted form.
    assert rows(report) == [("PL", 2)]
    attack = '" OR event@type == "page-view'
    assert rows(report, kind=attack) == []


def test_a_parameter_inside_other_text_is_refused():
    with pytest.raises(ReportError) as raised:
        make_report(
            subject="event",
            filter='event@type == "pre-{{kind}}"',
            parameters=[{"name": "kind", "default": "x"}],
        )
    assert str(raised.value) == (
        'The filter has a parameter inside the text "pre-{{kind}}": a parameter must be the '
        'whole value, e.g. event@type == "{{kind}}".'
    )


def test_placeholders_in_a_string_with_escaped_quotes_are_found():
    EventFactory(type='say "hi"', properties={"country": "PL"})
    report = make_report(
        subject="event",
        filter='event@type == "say \\"hi\\"" OR event@type == {{kind}}',
        parameters=[{"name": "kind", "default": "none"}],
    )
    assert rows(report) == [(None, 1)]


def test_plain_columns_compare_as_their_values():
    EventFactory(type="purchase", is_bot=True)
    EventFactory(type="purchase", is_bot=False)
    EventFactory(type="page-view", is_bot=False)

    def count(condition):
        report = make_report(name=condition, subject="event", filter=condition)
        return rows(report)[0][1]

    assert count('event@type == "purchase"') == 2
    assert count('event@type != "purchase"') == 1
    assert count("event@is_bot == true") == 1
    # A boolean column is no text: "true" the string is not true the boolean.
    assert count('event@is_bot == "true"') == 0
    assert count('event@type == "purchase" AND event@is_bot == false') == 1
    assert count("event@session EXISTS") == 3
