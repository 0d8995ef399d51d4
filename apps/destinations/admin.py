"""Admin for resources, destinations and deliveries.

- Resource credentials are never shown in clear: the page shows them masked, and a write-only
  field replaces them (left empty, the stored ones are kept).
- Each destination shows its health line (sent and failed in 24 h, pending, last error) and has
  a "Send test" page: a real send for a chosen profile (or event), recorded as a test delivery.
- Deliveries: filters by status and destination, attempts inline, no full count, and retry
  (bulk action and a button on a failed delivery).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.core.admin_helpers import (
    PRETTY_JSON_OVERRIDES,
    LargeTableAdminMixin,
    object_link,
    pretty_json,
    related_id_filter,
    short_id,
)
from apps.destinations.models import Delivery, DeliveryAttempt, Destination, Resource
from apps.destinations.selectors import destinations_with_health, enabled_destinations_cached
from apps.destinations.senders import SENDERS
from apps.destinations.services import TestSendError, deliveries_retry, destination_test_send
from apps.events.models import Event
from apps.profiles.models import Profile

MASK = "••••••"


def masked(value: Any) -> Any:
    """The shape of the credentials with every string replaced by a mask."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return MASK
    return value


# ------------------------------------------------------------------------------ resources


class WriteOnlyTextarea(forms.Textarea):
    """Renders empty whatever the value: a secret never goes back into the page, not even the
    one just typed into a form that is shown again with an error."""

    def format_value(self, value: Any) -> None:
        return None


class ResourceForm(forms.ModelForm):
    new_credentials = forms.JSONField(
        required=False,
        label="Credentials",
        widget=WriteOnlyTextarea(attrs={"rows": 6, "cols": 80, "class": "vLargeTextField"}),
        help_text="Write-only: the stored credentials are never shown. Enter a JSON object to "
        "replace them; leave empty to keep them.",
    )

    class Meta:
        model = Resource
        fields = ("name", "type", "description")

    def clean(self) -> dict:
        cleaned = super().clean()
        new = cleaned.get("new_credentials")
        if new not in (None, ""):
            # Validated with the type by Resource.clean() in _post_clean.
            self.instance.credentials = new
        return cleaned

    def _update_errors(self, errors: Any) -> None:
        # Resource.clean() reports on `credentials`, which this form edits as new_credentials.
        if hasattr(errors, "error_dict") and "credentials" in errors.error_dict:
            messages = errors.error_dict.pop("credentials")
            errors.error_dict.setdefault("new_credentials", []).extend(messages)
        super()._update_errors(errors)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    form = ResourceForm
    list_display = ("name", "type", "credential_keys", "updated")
    list_filter = ("type",)
    search_fields = ("name",)
    readonly_fields = ("credentials_masked", "credentials_shape")
    fields = (
        "name",
        "type",
        "description",
        "credentials_masked",
        "new_credentials",
        "credentials_shape",
    )

    @admin.display(description="credentials")
    def credential_keys(self, resource: Resource) -> str:
        return ", ".join(sorted(resource.credentials)) or "-"

    @admin.display(description="Stored credentials (masked)")
    def credentials_masked(self, resource: Resource) -> str:
        if resource.pk is None:
            return "-"
        return pretty_json(masked(resource.credentials))

    @admin.display(description="Expected shape per type")
    def credentials_shape(self, resource: Resource) -> str:
        schemas = {name: sender.credentials_schema for name, sender in SENDERS.items()}
        return pretty_json(schemas)


# --------------------------------------------------------------------------- destinations


class DestinationForm(forms.ModelForm):
    class Meta:
        model = Destination
        fields = (
            "name",
            "description",
            "enabled",
            "kind",
            "resource",
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
        (None, {"fields": ("name", "description", "enabled", "kind", "resource", "health")}),
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


# ----------------------------------------------------------------------------- deliveries


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fk_name = "delivery"
    extra = 0
    can_delete = False
    fields = (
        "number",
        "outcome",
        "started",
        "duration_ms",
        "status_code",
        "error",
        "response_excerpt",
    )
    readonly_fields = fields
    ordering = ("started", "id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = (
        "delivery_id",
        "destination",
        "target",
        "status",
        "attempts",
        "due_at",
        "finished_at",
        "error_excerpt",
    )
    list_filter = ("status", "destination", "is_test", related_id_filter("profile", "profile"))
    list_select_related = ("destination",)
    # Exact ids only (custom search below), each served by an index.
    search_fields = ("id",)
    search_help_text = "An exact delivery, profile or event id."
    ordering = ("-created",)
    sortable_by = ("due_at", "finished_at")
    actions = ("retry_selected",)
    inlines = (DeliveryAttemptInline,)
    fields = (
        "id",
        "destination",
        "target",
        "status",
        "is_test",
        "attempts",
        "recoveries",
        "first_change_at",
        "due_at",
        "latest_due_at",
        "finished_at",
        "last_error",
        "changed_fields",
        "payload_json",
        "created",
        "updated",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # rows are written by the dispatcher; retry is the one action

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("destinations.change_delivery")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        from django.db.models import Q

        return queryset.filter(Q(pk=term) | Q(profile_id=term) | Q(event_id=term)), False

    @admin.display(description="delivery")
    def delivery_id(self, delivery: Delivery) -> str:
        return short_id(delivery.pk)

    @admin.display(description="profile / event")
    def target(self, delivery: Delivery) -> str:
        if delivery.event_id:
            return object_link(Event, delivery.event_id)
        return object_link(Profile, delivery.profile_id)

    @admin.display(description="last error")
    def error_excerpt(self, delivery: Delivery) -> str:
        return Truncator(delivery.last_error).chars(80) or "-"

    @admin.display(description="payload sent")
    def payload_json(self, delivery: Delivery) -> str:
        return pretty_json(delivery.payload)

    @admin.action(description="Retry selected failed deliveries", permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True)[:1000])
        self._report_retry(request, deliveries_retry(delivery_ids=ids))

    def _report_retry(self, request: HttpRequest, summary) -> None:
        text = f"{summary.requeued} delivery(ies) queued to send now."
        if summary.merged:
            text += f" {summary.merged} folded into a newer pending sync of the same profile."
        if summary.not_failed:
            text += f" {summary.not_failed} skipped: only failed deliveries can be retried."
        self.message_user(request, text, messages.SUCCESS if summary.requeued else messages.INFO)

    def get_urls(self):
        retry = self.admin_site.admin_view(self.retry_view)
        return [
            path("<path:object_id>/retry/", retry, name="destinations_delivery_retry"),
            *super().get_urls(),
        ]

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_retry_permission(request):
            raise PermissionDenied
        self._report_retry(request, deliveries_retry(delivery_ids=[object_id]))
        return HttpResponseRedirect(reverse("admin:destinations_delivery_change", args=[object_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        delivery = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_retry": bool(
                delivery
                and delivery.status == Delivery.Status.FAILED
                and not delivery.is_test
                and self.has_retry_permission(request)
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)
