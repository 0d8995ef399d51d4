from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html, format_html_join

from apps.core.admin_helpers import PRETTY_JSON_OVERRIDES, change_link, changelist_link
from apps.sources.models import EventSource, RedirectLink
from apps.sources.services import event_sources_set_enabled


@admin.register(EventSource)
class EventSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "bridge", "enabled", "transitional", "created")
    list_filter = ("bridge", "enabled", "transitional")
    search_fields = ("name", "id")
    ordering = ("name",)
    actions = ("enable_sources", "disable_sources")
    formfield_overrides = PRETTY_JSON_OVERRIDES
    fieldsets = (
        (None, {"fields": ("id", "name", "description", "bridge", "enabled", "transitional")}),
        ("Where to send events", {"fields": ("endpoints",)}),
        (
            "Details",
            {"fields": ("channel", "tags", "config", "retention_days", "created", "updated")},
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # The id is chosen once, at creation: clients and links carry it.
        readonly = ("endpoints", "created", "updated")
        return ("id", *readonly) if obj is not None else readonly

    @admin.display(description="Endpoints")
    def endpoints(self, source: EventSource) -> str:
        if source.pk is None or source._state.adding:
            return "Shown once the source is saved."
        base = settings.CDP_PUBLIC_URL
        if source.bridge == EventSource.Bridge.REST:
            lines = [
                ("POST", f"{base}/track", f'with "source": {{"id": "{source.id}"}} in the body'),
            ]
        elif source.bridge == EventSource.Bridge.WEBHOOK:
            lines = [
                ("POST or GET", f"{base}/collect/<event-type>/{source.id}", "profile-less event"),
                (
                    "POST or GET",
                    f"{base}/collect/<event-type>/{source.id}/<session-id>",
                    "event of the session's profile",
                ),
            ]
        else:
            count = source.redirect_links.count()
            return format_html(
                "Each redirect link has its own URL: {}",
                changelist_link(
                    RedirectLink, f"{count} redirect link(s)", source__id__exact=source.id
                ),
            )
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>", lines),
        )

    @admin.action(description="Enable the selected event sources", permissions=["change"])
    def enable_sources(self, request, queryset):
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description="Disable the selected event sources", permissions=["change"])
    def disable_sources(self, request, queryset):
        self._set_enabled(request, queryset, enabled=False)

    def _set_enabled(self, request, queryset, *, enabled: bool) -> None:
        changed = event_sources_set_enabled(
            source_ids=queryset.values_list("pk", flat=True), enabled=enabled
        )
        state = "enabled" if enabled else "disabled"
        self.message_user(
            request,
            f"{changed} event source(s) {state}; /track sees the change within "
            f"{settings.CDP_SOURCE_CACHE_SECONDS} s.",
            messages.SUCCESS,
        )


@admin.register(RedirectLink)
class RedirectLinkAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "source_link", "event_type", "url", "created")
    list_filter = ("source", "event_type")
    search_fields = ("name", "id", "url")
    list_select_related = ("source",)
    formfield_overrides = {**PRETTY_JSON_OVERRIDES, models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("id", "name", "description", "public_url")}),
        ("Redirect", {"fields": ("url", "source", "event_type", "props", "tags", "created")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = ("public_url", "created")
        return ("id", *readonly) if obj is not None else readonly

    @admin.display(description="Source", ordering="source__name")
    def source_link(self, link: RedirectLink) -> str:
        return change_link(link.source)

    @admin.display(description="Public URL")
    def public_url(self, link: RedirectLink) -> str:
        if link.pk is None or link._state.adding:
            return "Shown once the link is saved."
        url = f"{settings.CDP_PUBLIC_URL}/redirect/{link.id}"
        return format_html(
            "<code>{}</code><br>Append <code>/&lt;session-id&gt;</code> to tie the click to a "
            "known session (the tracardi-session-id cookie is used otherwise).",
            url,
        )
