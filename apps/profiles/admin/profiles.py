"""Profiles and sessions, read-only; the profile's person page and edit page are mixins
(person.py, edit.py). Events are linked by their admin URL names, never imported."""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from apps.core.admin_helpers import (
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    changelist_link,
    json_display,
    object_link,
    related_id_filter,
)
from apps.profiles.admin.edit import ProfileEditAdminMixin
from apps.profiles.admin.person import ProfilePersonAdminMixin
from apps.profiles.models import Profile, Session
from apps.profiles.search import SEARCH_CAP, profile_search
from apps.profiles.selectors import (
    profile_related_counts,
    segments_of_recent_profiles,
    session_event_count,
)

JSON_FIELDS_OF_PROFILE = ("metadata", "stats", "traits", "interests", "consents", "aux", "data")
JSON_FIELDS_OF_SESSION = ("device", "os", "app", "utm", "context", "properties", "metadata")


class SegmentFilter(admin.SimpleListFilter):
    title = "segment"
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        segments = segments_of_recent_profiles()
        selected = self.value()
        if selected and selected not in segments:
            segments = sorted([*segments, selected])
        return [(segment, segment) for segment in segments]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(segments__contains=[self.value()])
        return queryset


@admin.register(Profile)
class ProfileAdmin(
    ProfileEditAdminMixin,
    ProfilePersonAdminMixin,
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    # A person is named by their name, else their e-mail, else the start of their id (the whole
    # UUID took a fifth of the table and pushed "updated" out of a 1,400 px screen).
    list_display = (
        "person",
        "email_in_list",
        "visit_count",
        "segment_list",
        "active",
        "last_change",
    )
    list_display_links = ("person",)
    list_filter = ("active", SegmentFilter)
    # The search is custom (get_search_results, apps.profiles.search): every form through
    # an index.
    search_fields = ("id",)
    # Two lines (a constant, hence safe): the forms of a person, then the trait form.
    search_help_text = mark_safe(
        "A name (ann smith), e-mail (ann@), phone (+48 600 100 200), customer id or other "
        "identifier, or profile id.<br>A trait as key=value: plan=pro, orders=42."
    )
    ordering = ("-updated",)
    sortable_by = ("updated",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "email",
                    "merged_ids",
                    "primary_id",
                    "active",
                    "segment_list",
                    "visit_count",
                    "last_location",
                    "created",
                    "updated",
                    "related",
                )
            },
        ),
        ("Data", {"fields": tuple(f"{name}_json" for name in JSON_FIELDS_OF_PROFILE)}),
    )
    readonly_fields = (
        "email",
        "merged_ids",
        "segment_list",
        "related",
        "last_location",
        *(f"{name}_json" for name in JSON_FIELDS_OF_PROFILE),
    )

    metadata_json = json_display("metadata")
    stats_json = json_display("stats")
    traits_json = json_display("traits")
    interests_json = json_display("interests")
    consents_json = json_display("consents")
    aux_json = json_display("aux")
    data_json = json_display("data")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        found, more = profile_search(queryset, search_term)
        if more:
            self.message_user(
                request,
                f"More than {SEARCH_CAP:,} profiles match {search_term.strip()!r}: "
                f"{SEARCH_CAP:,} of them are listed. Type more of the name, number or e-mail "
                "to narrow the search down.",
                messages.WARNING,
            )
        return found, False

    @admin.display(description="updated", ordering="updated")
    def last_change(self, profile: Profile) -> str:
        # Compact and on one line ("3 Dec 2026, 07:07"): Django's "Dec. 3, 2026, 7:07 a.m."
        # wrapped or was cut off at the table's edge.
        return format_html(
            '<span style="white-space: nowrap">{}</span>',
            date_format(timezone.localtime(profile.updated), "j M Y, H:i"),
        )

    @admin.display(description="person")
    def person(self, profile: Profile) -> str:
        return profile.name or profile.email or f"{profile.pk[:8]}…"

    @admin.display(description="e-mail")
    def email(self, profile: Profile) -> str:
        return profile.email or "-"

    @admin.display(description="e-mail")
    def email_in_list(self, profile: Profile) -> str:
        if not profile.email:
            return "-"
        # A long address is cut with "…" (the whole one on hover), not the table's last column.
        return format_html(
            '<span title="{}" style="display: inline-block; max-width: 16em; overflow: hidden; '
            'text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom">{}</span>',
            profile.email,
            profile.email,
        )

    @admin.display(description="segments")
    def segment_list(self, profile: Profile) -> str:
        return ", ".join(profile.segments) or "-"

    @admin.display(description="merged ids")
    def merged_ids(self, profile: Profile) -> str:
        return ", ".join(profile.ids) or "-"

    @admin.display(description="last location")
    def last_location(self, profile: Profile) -> str:
        data = profile.data if isinstance(profile.data, dict) else {}
        return _geo_display(_at(data, "devices", "last", "geo"))

    @admin.display(description="Sessions and events")
    def related(self, profile: Profile) -> str:
        counts = profile_related_counts(profile_id=profile.pk)
        return format_html(
            "{} &middot; {}",
            changelist_link(Session, f"{counts['sessions'].label} session(s)", profile=profile.pk),
            _events_link(f"{counts['events'].label} event(s)", profile=profile.pk),
        )


def _at(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _geo_parts(geo: dict, fields: tuple[str, ...]) -> list[str]:
    country = geo.get("country") if isinstance(geo.get("country"), dict) else {}
    values = {
        "city": geo.get("city"),
        "county": geo.get("county"),
        "postal": geo.get("postal"),
        "country": country.get("name") or country.get("code"),
    }
    return [str(values[field]) for field in fields if values[field]]


def _geo_display(geo, *, ip: str | None = None) -> str:
    """A located session or profile as a line a person reads, with a map link (IP geolocation,
    apps.profiles.geo): "London, England, EC2V, United Kingdom (GB) · 51.5142, -0.0931"."""
    if not isinstance(geo, dict):
        return "- (not located: no GeoIP database, or an address it does not know)"
    place = ", ".join(_geo_parts(geo, ("city", "county", "postal", "country"))) or "?"
    code = _at(geo, "country", "code")
    if code:
        place = f"{place} ({code})"
    parts = [format_html("{}", place)]
    latitude, longitude = geo.get("latitude"), geo.get("longitude")
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        parts.append(
            format_html(
                '<a href="https://www.openstreetmap.org/?mlat={}&amp;mlon={}#map=11/{}/{}" '
                'rel="noopener noreferrer" target="_blank">{}, {}</a>',
                latitude,
                longitude,
                latitude,
                longitude,
                latitude,
                longitude,
            )
        )
    if ip:
        parts.append(format_html("IP {}", ip))
    return mark_safe(" &middot; ".join(parts))  # each part escaped by format_html


def _device_summary(session: Session) -> str:
    browser = " ".join(
        str(part) for part in (session.app.get("name"), session.app.get("version")) if part
    )
    system = " ".join(
        str(part) for part in (session.os.get("name"), session.os.get("version")) if part
    )
    parts = [part for part in (browser, system, session.device.get("type")) if part]
    return " · ".join(parts) or "-"


@admin.register(Session)
class SessionAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "profile_link",
        "created",
        "updated",
        "is_bot",
        "device_summary",
        "place",
    )
    list_filter = ("is_bot", "status", related_id_filter("profile", "profile"))
    search_fields = ("id",)
    search_help_text = "An exact session id or profile id."
    ordering = ("-updated",)
    sortable_by = ()
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "profile_link",
                    "status",
                    "is_bot",
                    "device_summary",
                    "location",
                    "created",
                    "updated",
                    "events",
                )
            },
        ),
        ("Data", {"fields": tuple(f"{name}_json" for name in JSON_FIELDS_OF_SESSION)}),
    )
    readonly_fields = (
        "profile_link",
        "device_summary",
        "location",
        "events",
        *(f"{name}_json" for name in JSON_FIELDS_OF_SESSION),
    )

    device_json = json_display("device")
    os_json = json_display("os")
    app_json = json_display("app")
    utm_json = json_display("utm")
    context_json = json_display("context")
    properties_json = json_display("properties")
    metadata_json = json_display("metadata")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(pk=term) | Q(profile_id=term)), False

    @admin.display(description="profile")
    def profile_link(self, session: Session) -> str:
        return object_link(Profile, session.profile_id)

    @admin.display(description="browser · system · device")
    def device_summary(self, session: Session) -> str:
        return _device_summary(session)

    @admin.display(description="location")
    def location(self, session: Session) -> str:
        device = session.device if isinstance(session.device, dict) else {}
        return _geo_display(device.get("geo"), ip=device.get("ip"))

    @admin.display(description="place")
    def place(self, session: Session) -> str:
        geo = (session.device if isinstance(session.device, dict) else {}).get("geo")
        if not isinstance(geo, dict):
            return "-"
        return ", ".join(_geo_parts(geo, ("city", "country"))) or "-"

    @admin.display(description="Events")
    def events(self, session: Session) -> str:
        count = session_event_count(session_id=session.pk)
        return _events_link(f"{count.label} event(s)", session=session.pk)


def _events_link(label: str, **params: str) -> str:
    url = reverse("admin:events_event_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(params), label)
