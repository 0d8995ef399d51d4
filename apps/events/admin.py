import json
import re
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.db.models import Q
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html

from apps.core.admin_helpers import (
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    change_link,
    json_display,
    object_link,
    related_id_filter,
    short_id,
)
from apps.core.changelist import KeepFiltersChangeList
from apps.core.paginator import FirstPageFirstPaginator
from apps.events import admin_imports, admin_types  # noqa: F401  (register their ModelAdmins)
from apps.events.models import Event
from apps.events.selectors import (
    event_type_key_properties,
    event_type_trend,
    event_types_in_use,
)
from apps.profiles.models import Profile, Session

# "Stored in": how far back from now, by the index on -inserted.
STORED_WINDOWS = {
    "1h": ("the last hour", timedelta(hours=1)),
    "24h": ("the last 24 hours", timedelta(hours=24)),
    "7d": ("the last 7 days", timedelta(days=7)),
    "30d": ("the last 30 days", timedelta(days=30)),
}
# A property search reads every event of its window (properties have no index): without a
# "stored" choice it looks at the 7 days up to now, or up to the "stored before" date.
PROPERTY_SEARCH_WINDOW = timedelta(days=7)
PROPERTY_TERM = re.compile(r"^(?P<key>[A-Za-z_][\w.-]{0,99})=(?P<value>.+)$")
PROPERTY_COLUMN_WIDTH = 40
# Filtered to one type, the key properties take the place of these columns (so that the list
# fits 1400 px beside the admin's sidebars): the event time is in the stored time's tooltip and
# the trend, the source and session on the event's page.
TYPE_VIEW_HIDDEN = ("time_display", "source_link", "session_link")


class EventTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(event_type, event_type) for event_type in event_types_in_use()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(type=self.value())
        return queryset


def before_value(inserted: datetime, event_id: str | None = None) -> str:
    """The `before` parameter: a stored time, and for the "Older" link the id of the page's
    last event (events stored in the same request share their time)."""
    text = inserted.astimezone(UTC).isoformat()
    return f"{text},{event_id}" if event_id is not None else text


def parse_before(value: str) -> tuple[datetime, str | None] | None:
    """`before_value`'s inverse; also takes a date or a local date and time (the "go to date"
    input), read in TIME_ZONE. None when it is neither."""
    text, _, event_id = value.strip().partition(",")
    try:
        at = parse_datetime(text)
        if at is None:
            day = parse_date(text)
            at = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        return None
    if at is None:
        return None
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return at, event_id or None


class StoredWithinFilter(admin.SimpleListFilter):
    """Events stored in the last hour, day, week or month, and a "go to date" field (sets the
    `before` filter, keeping the others)."""

    title = "stored in"
    parameter_name = "stored"
    template = "admin/events/event/stored_filter.html"

    def __init__(self, request, params, model, model_admin):
        # What the "go to date" form carries over: every parameter but the ones it replaces.
        self.kept_params = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in ("before", "stored", PAGE_VAR, ERROR_FLAG)
            for value in values
        ]
        cursor = parse_before(request.GET.get("before", ""))
        self.before_input = (
            timezone.localtime(cursor[0]).strftime("%Y-%m-%dT%H:%M:%S") if cursor else ""
        )
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in STORED_WINDOWS.items()]

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0]["display"] = "any time"
        return choices

    def queryset(self, request, queryset):
        window = STORED_WINDOWS.get(self.value() or "")
        if window is None:
            return queryset
        return queryset.filter(inserted__gte=timezone.now() - window[1])


class StoredBeforeFilter(admin.SimpleListFilter):
    """`before`: events stored before a time, newest first, by the index on -inserted (set by
    the "go to date" field and the "Older" link). With an event id, the events stored at that
    time with a smaller id come too (keyset paging in the list's order, -inserted, -pk). Shown
    only when set, so the page says what it is narrowed to."""

    title = "stored before"
    parameter_name = "before"
    template = "admin/events/event/stored_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        if self.value() and self.cursor is None:
            messages.error(
                request,
                f"“{self.value()}” is not a date and time (e.g. 2026-12-01 or 2026-12-01T14:30): "
                "the list is not narrowed by it.",
            )

    @cached_property
    def cursor(self) -> tuple[datetime, str | None] | None:
        return parse_before(self.value()) if self.value() else None

    def lookups(self, request, model_admin):
        if not self.value():
            return []
        cursor = self.cursor
        if cursor is None:
            return [(self.value(), "(not a date)")]
        at = timezone.localtime(cursor[0]).strftime("%Y-%m-%d %H:%M:%S")
        return [(self.value(), f"{at} ({timezone.get_current_timezone_name()})")]

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0]["display"] = "now (newest first)"
        return choices

    def queryset(self, request, queryset):
        if self.cursor is None:
            return queryset
        at, event_id = self.cursor
        if event_id is None:
            return queryset.filter(inserted__lt=at)
        # One index range (inserted <= at); the OR only filters the rows stored at `at`.
        return queryset.filter(Q(inserted__lt=at) | Q(pk__lt=event_id), inserted__lte=at)


def compact_time(value: datetime, *, happened: datetime | None = None) -> str:
    """Date over time of day in a list column (it wraps at the space): narrow, and sortable by
    eye, unlike "Nov. 30, 2026, 3:25 a.m."; the tooltip has the full time (and when the event
    happened, for the stored time)."""
    local = timezone.localtime(value)
    title = local.isoformat()
    if happened is not None:
        title = f"stored {title}, happened {timezone.localtime(happened).isoformat()}"
    return format_html(
        '<span class="cdp-time" title="{}"><span>{}</span> <span>{}</span></span>',
        title,
        local.strftime("%Y-%m-%d"),
        local.strftime("%H:%M:%S"),
    )


def property_text(properties: Any, key: str) -> str | None:
    if not isinstance(properties, dict) or properties.get(key) is None:
        return None
    value = properties[key]
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= PROPERTY_COLUMN_WIDTH:
        return format_html('<span title="{}">{}</span>', text, text)
    return format_html('<span title="{}">{}…</span>', text, text[: PROPERTY_COLUMN_WIDTH - 1])


def property_column(key: str):
    """A list column showing `properties.<key>` of the row's event (loaded with the row)."""

    def column(event: Event) -> str | None:
        return property_text(event.properties, key)

    column.__name__ = "property_" + re.sub(r"\W", "_", key)
    return admin.display(description=key)(column)


class EventChangeList(KeepFiltersChangeList):
    @cached_property
    def older_query_string(self) -> str | None:
        """Where page numbers stop (the last page of an inexact count): the same list from the
        event after this page's last, keyset-paged, every other filter kept."""
        paginator = self.paginator
        if self.show_all or paginator.count_kind == "exact":
            return None
        if self.page_num < paginator.num_pages:
            return None
        rows = list(self.result_list)
        if not rows:
            return None
        last = rows[-1]
        return self.get_query_string(
            {"before": before_value(last.inserted, last.pk), PAGE_VAR: None, ERROR_FLAG: None}
        )

    @cached_property
    def newest_query_string(self) -> str | None:
        if "before" not in self.params:
            return None
        return self.get_query_string({"before": None, PAGE_VAR: None, ERROR_FLAG: None})


def trend_chart(event_type: str) -> dict:
    """The trend of a type as the template draws it: one bar per day, scaled to the busiest."""
    days = event_type_trend(event_type)
    peak = max((day.count for day in days), default=0)
    height = 60
    bars = []
    for n, day in enumerate(days):
        bar_height = round(day.count * height / peak, 1) if peak else 0
        if day.count and bar_height < 1:
            bar_height = 1
        bars.append(
            {
                "x": n * 10,
                "y": height - bar_height,
                "height": bar_height,
                "day": day.day,
                "count": day.count,
            }
        )
    return {
        "type": event_type,
        "bars": bars,
        "peak": peak,
        "total": sum(day.count for day in days),
        "first": days[0].day,
        "last": days[-1].day,
        "width": len(days) * 10,
        "height": height,
    }


@admin.register(Event)
class EventAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # apps.tracking.admin adds the replay action.
    list_display = (
        "time_display",
        "inserted_display",
        "type",
        "source_link",
        "profile_link",
        "session_link",
        "status",
        "bot",
    )
    list_filter = (
        StoredWithinFilter,
        StoredBeforeFilter,
        "status",
        EventTypeFilter,
        "source",
        "is_bot",
        related_id_filter("profile", "profile"),
        related_id_filter("session", "session"),
    )
    # The session is shown by its id alone (no join needed); source and profile by name.
    list_select_related = ("source", "profile")
    # Newest stored first, through the index on -inserted; sorting by other columns would
    # sort the whole table.
    ordering = ("-inserted",)
    sortable_by = ("inserted_display",)
    search_fields = ("id",)
    search_help_text = (
        "An exact event id, profile id or session id; or a property as key=value "
        "(order_id=A-1001, email=ann@example.com) or an indexed trait as traits.name=value "
        "(traits.order_total=19.99), looked for among the events stored in the "
        'period chosen under "Stored in" (the last 7 days when none is chosen).'
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "type",
                    "status",
                    "status_message",
                    "time",
                    "inserted",
                    "is_bot",
                    "source_link",
                    "profile_link",
                    "session_link",
                )
            },
        ),
        (
            "Data",
            {
                "fields": (
                    "properties_json",
                    "context_json",
                    "traits_json",
                    "tags_json",
                    "hit_json",
                    "request_json",
                    "metadata_json",
                )
            },
        ),
    )
    readonly_fields = (
        "source_link",
        "profile_link",
        "session_link",
        "properties_json",
        "context_json",
        "traits_json",
        "tags_json",
        "hit_json",
        "request_json",
        "metadata_json",
    )

    properties_json = json_display("properties")
    context_json = json_display("context")
    traits_json = json_display("traits")
    tags_json = json_display("tags")
    hit_json = json_display("hit", "hit (the page)")
    request_json = json_display("request")
    metadata_json = json_display("metadata")

    def get_changelist(self, request, **kwargs):
        return EventChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = self.paginator
        if request.GET.get(PAGE_VAR, "1") == "1":
            paginator = FirstPageFirstPaginator
        return paginator(queryset, per_page, orphans, allow_empty_first_page)

    def get_list_display(self, request):
        """Filtered to one type, its key properties replace the type column (the same on every
        row); they are read from the rows' properties, no query per row."""
        display = super().get_list_display(request)
        event_type = request.GET.get("type")
        if not event_type:
            return display
        columns = [property_column(key) for key in event_type_key_properties(event_type)]
        display = [name for name in display if name not in TYPE_VIEW_HIDDEN]
        at = display.index("type") if "type" in display else len(display)
        return (*display[:at], *columns, *display[at + 1 :])

    def changelist_view(self, request, extra_context=None):
        event_type = request.GET.get("type")
        if event_type:
            extra_context = {**(extra_context or {}), "type_trend": trend_chart(event_type)}
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        match = PROPERTY_TERM.match(term)
        if match:
            return self._property_search(request, queryset, match["key"], match["value"]), False
        # Each branch has its index: the pk, (profile, time), (session, time).
        return queryset.filter(Q(pk=term) | Q(profile_id=term) | Q(session_id=term)), False

    def _property_search(self, request, queryset, key: str, value: str):
        """properties.<key> (a dot path for nested keys) equal to the value as text (so
        `total=19.99` finds the number), within a time window: the "stored in" choice, else the
        7 days up to now or up to the "stored before" date."""
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        # traits.<name>=value: an indexed property (apps.events.indexing); else a property.
        column, _, trait = key.partition(".")
        if column == "traits" and trait:
            column, key = "traits", trait
        else:
            column = "properties"
        path = "__".join(key.split("."))
        found = queryset.alias(_searched=KT(f"{column}__{path}")).filter(_searched=value)
        if request.GET.get("stored") in STORED_WINDOWS:
            return found
        cursor = parse_before(request.GET.get("before", ""))
        end = cursor[0] if cursor else timezone.now()
        return found.filter(inserted__gte=end - PROPERTY_SEARCH_WINDOW)

    @admin.display(description="time")
    def time_display(self, event: Event) -> str:
        return compact_time(event.time)

    @admin.display(description="inserted", ordering="inserted")
    def inserted_display(self, event: Event) -> str:
        return compact_time(event.inserted, happened=event.time)

    @admin.display(description="bot", boolean=True)
    def bot(self, event: Event) -> bool:
        return event.is_bot

    @admin.display(description="source")
    def source_link(self, event: Event) -> str:
        return change_link(event.source, event.source.name)

    @admin.display(description="profile")
    def profile_link(self, event: Event) -> str:
        # A profile shows as its e-mail or its id, both long; the id is in the link's title.
        label = short_id(str(event.profile), 13) if event.profile else None
        return object_link(Profile, event.profile_id, label)

    @admin.display(description="session")
    def session_link(self, event: Event) -> str:
        return object_link(Session, event.session_id)
