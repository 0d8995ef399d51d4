"""Destinations: each shows its health line (sent and failed in 24 h, pending, last error) and
has a "Send test" page: a real send for a chosen profile (or event), recorded as a test
delivery."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.core.admin_helpers import (
    PRETTY_JSON_OVERRIDES,
    object_link,
    pretty_json,
)
from apps.destinations.models import Delivery, Destination
from apps.destinations.selectors import destinations_with_health, enabled_destinations_cached
from apps.destinations.senders import SENDERS
from apps.destinations.services import TestSendError, destination_test_send


class DestinationForm(forms.ModelForm):
    class Meta:
        model = Destination
        fields = (
            "name",
            "description",
            "enabled",
            "kind",
            "resource",
            "forward_erasures",
            "condition",
            "mapping",
            "settings",
            "delay_seconds",
            "max_delay_seconds",
            "event_type",
            "source",
        )
        widgets = {"condition": forms.Textarea(attrs={"rows": 3, "cols": 80})}


class SendTestForm(forms.Form):
    profile_id = forms.CharField(required=False, label="Profile id")
    event_id = forms.CharField(required=False, label="Event id")


def health_line(destination: Destination) -> str:
    error = ""
    if destination.last_error:
        error = format_html(
            ' · <span title="{}">last error {}: {}</span>',
            destination.last_error,
            timezone.localtime(destination.last_error_at).strftime("%Y-%m-%d %H:%M"),
            Truncator(destination.last_error).chars(60),
        )
    return format_html(
        "{} sent · {} failed (24 h) · {} pending{}",
        destination.sent_24h,
        destination.failed_24h,
        destination.pending_now,
        error,
    )


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    form = DestinationForm
    formfield_overrides = PRETTY_JSON_OVERRIDES
    list_display = ("name", "kind", "resource", "enabled", "delay_seconds", "health")
    list_filter = ("enabled", "kind", "resource__type")
    list_select_related = ("resource",)
    search_fields = ("name",)
    readonly_fields = ("health", "settings_shape", "deliveries")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "description",
                    "enabled",
                    "kind",
                    "resource",
                    "forward_erasures",
                    "health",
                )
            },
        ),
        (
            "What is sent",
            {
                "fields": ("condition", "mapping", "settings", "settings_shape"),
                "description": "The condition and the mapping read profile@... (and event@... "
                "for event destinations).",
            },
        ),
        ("When", {"fields": ("delay_seconds", "max_delay_seconds")}),
        ("Event destinations", {"fields": ("event_type", "source")}),
        (None, {"fields": ("deliveries",)}),
    )

    def get_queryset(self, request: HttpRequest):
        return destinations_with_health(super().get_queryset(request), now=timezone.now())

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        enabled_destinations_cached.cache_clear()

    @admin.display(description="health")
    def health(self, destination: Destination) -> str:
        if destination.pk is None:
            return "-"
        return health_line(destination)

    @admin.display(description="Settings shape per resource type")
    def settings_shape(self, destination: Destination) -> str:
        if destination.resource_id:
            sender = SENDERS[destination.resource.type]
            return pretty_json(sender.settings_schema)
        return pretty_json({name: s.settings_schema for name, s in SENDERS.items()})

    @admin.display(description="Deliveries")
    def deliveries(self, destination: Destination) -> str:
        if destination.pk is None:
            return "-"
        url = reverse("admin:destinations_delivery_changelist")
        return format_html(
            '<a href="{}?destination__id__exact={}">All deliveries</a> · '
            '<a href="{}?destination__id__exact={}&status__exact=failed">failed</a>',
            url,
            destination.pk,
            url,
            destination.pk,
        )

    def get_urls(self):
        send_test = self.admin_site.admin_view(self.send_test_view)
        return [
            path("<path:object_id>/send-test/", send_test, name="destinations_destination_test"),
            *super().get_urls(),
        ]

    def send_test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        destination = get_object_or_404(
            Destination.objects.select_related("resource"), pk=object_id
        )
        if not self.has_change_permission(request, destination):
            raise PermissionDenied
        outcome = None
        form = SendTestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                outcome = destination_test_send(
                    destination=destination,
                    profile_id=form.cleaned_data["profile_id"],
                    event_id=form.cleaned_data["event_id"],
                )
            except TestSendError as error:
                form.add_error(None, str(error))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Send test: {destination.name}",
            "destination": destination,
            "form": form,
            "outcome": outcome,
            "payload_json": json.dumps(outcome.payload, indent=2, ensure_ascii=False, default=str)
            if outcome
            else "",
            "delivery_link": object_link(Delivery, outcome.delivery.pk) if outcome else "",
        }
        return TemplateResponse(request, "admin/destinations/destination/send_test.html", context)
