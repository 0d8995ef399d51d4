"""Destinations: each shows its health line (sent and failed in 24 h, pending, last error) and
has a "Send test" page: a real send for a chosen profile (or event), recorded as a test
delivery. Profile destinations also have a scheduled sync of an audience segment (plain form
fields that the services turn into a django-celery-beat entry), a "Send now" button and the
list of their last sync runs."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from apps.core.admin_helpers import (
    PRETTY_JSON_OVERRIDES,
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    admin_view_requiring,
    object_link,
)
from apps.core.schema_forms import (
    SchemaField,
    document_from,
    initial_values,
    schema_errors_to_fields,
    schema_fields,
)
from apps.core.widgets import ConditionBuilderWidget, MappingTableWidget
from apps.destinations.models import Delivery, Destination, DestinationSyncRun
from apps.destinations.selectors import (
    destinations_with_health,
    enabled_destinations_cached,
    mapping_preview,
    sync_runs_with_deliveries,
)
from apps.destinations.senders import SENDERS, resource_plugins_ensure
from apps.destinations.services import (
    TestSendError,
    destination_delete,
    destination_sync_schedule_apply,
    destination_test_send,
)
from apps.destinations.tasks import destination_sync_request
from apps.notation import NotationError

PREVIEW_URL_NAME = "admin:destinations_destination_preview_mapping"
# Sync runs listed on a destination's page (the rest are on the sync runs list).
RECENT_SYNC_RUNS = 10


# The sender settings of each resource type as form fields (apps.core.schema_forms); the page
# shows those of the selected resource's type (static/destinations/type_fields.js). Kept in step
# with the registry by settings_fields(): plugins add senders at start.
SETTINGS_FIELDS: dict[str, list[SchemaField]] = {}


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
            "required_consent",
            "condition",
            "mapping",
            "delay_seconds",
            "max_delay_seconds",
            "event_type",
            "source",
            "sync_segment",
            "sync_every",
            "sync_time",
            "sync_interval_hours",
            "sync_crontab",
            "removal_mapping",
        )
        widgets = {
            "condition": ConditionBuilderWidget(sources=("profile", "event")),
            "mapping": MappingTableWidget(preview_url_name=PREVIEW_URL_NAME),
            "removal_mapping": MappingTableWidget(preview_url_name=PREVIEW_URL_NAME),
            "sync_time": forms.TimeInput(format="%H:%M", attrs={"placeholder": "02:00"}),
            "sync_crontab": forms.TextInput(attrs={"placeholder": "0 2 * * *"}),
        }

    class Media:
        js = ("destinations/type_fields.js",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        resource = self.instance.resource if self.instance.resource_id else None
        if resource is not None:
            self.initial.update(
                initial_values(self.instance.settings, SETTINGS_FIELDS.get(resource.type, []))
            )
        if "resource" in self.fields:
            # Only resources with a sender: webhook, RabbitMQ, SMTP, the contact-list vendors
            # (Mailchimp, HubSpot...), plugins'. Slack, Kafka... are for workflow actions.
            self.fields["resource"].queryset = self.fields["resource"].queryset.filter(
                type__in=list(SENDERS)
            )
            choices = self.fields["resource"].queryset.values_list("pk", "type")
            select = getattr(
                self.fields["resource"].widget, "widget", self.fields["resource"].widget
            )
            select.attrs["data-resource-types"] = json.dumps(dict(choices))
            select.attrs["data-type-fields"] = "settings"

    def clean(self) -> dict:
        cleaned = super().clean()
        resource = cleaned.get("resource")
        if resource is not None:
            try:
                # Validated against the sender's schema by Destination.clean() (_post_clean).
                self.instance.settings = document_from(
                    cleaned, SETTINGS_FIELDS.get(resource.type, [])
                )
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    self.add_error(name, messages)
        return cleaned

    def _update_errors(self, errors) -> None:
        # Destination.clean() reports on `settings`, which this form edits field by field.
        resource = self.cleaned_data.get("resource")
        if resource is not None:
            schema_errors_to_fields(
                errors,
                document="settings",
                prefix=f"settings__{resource.type}",
                field_names=self.fields,
            )
        super()._update_errors(errors)


def settings_fields() -> dict[str, list[SchemaField]]:
    """SETTINGS_FIELDS for the senders registered now, declared on DestinationForm (the admin
    builds its form from the declared fields its fieldsets name)."""
    resource_plugins_ensure()
    if list(SETTINGS_FIELDS) == list(SENDERS):
        return SETTINGS_FIELDS
    for fields in SETTINGS_FIELDS.values():
        for item in fields:
            del DestinationForm.base_fields[item.name], DestinationForm.declared_fields[item.name]
    SETTINGS_FIELDS.clear()
    for resource_type, sender in SENDERS.items():
        fields = schema_fields(sender.settings_schema, prefix=f"settings__{resource_type}")
        SETTINGS_FIELDS[resource_type] = fields
        for item in fields:
            DestinationForm.base_fields[item.name] = item.field
            DestinationForm.declared_fields[item.name] = item.field
    return SETTINGS_FIELDS


settings_fields()


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


def sync_run_outcome(run: DestinationSyncRun) -> str:
    """The run's status, "done" once everything it queued is sent, failed or skipped."""
    if run.status == DestinationSyncRun.Status.QUEUED and not run.deliveries_waiting:
        return "done"
    if run.message and run.status != DestinationSyncRun.Status.QUEUED:
        return f"{run.get_status_display()}: {run.message}"
    return run.get_status_display()


@admin.register(DestinationSyncRun)
class DestinationSyncRunAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "started",
        "destination",
        "trigger",
        "requested_by",
        "outcome",
        "members_queued",
        "already_pending",
        "skipped_by_condition",
        "removals_queued",
        "left_not_sent",
        "sent",
        "failed",
        "waiting",
        "finished",
    )
    list_filter = ("status", "trigger", "destination")
    list_select_related = ("destination",)
    ordering = ("-started",)
    fields = (
        "id",
        "destination",
        "trigger",
        "requested_by",
        "outcome",
        "segment_slug",
        "phase",
        "started",
        "finished",
        "members_queued",
        "already_pending",
        "skipped_by_condition",
        "removals_queued",
        "left_not_sent",
        "sent",
        "failed",
        "waiting",
        "deliveries",
        "message",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        return sync_runs_with_deliveries(super().get_queryset(request))

    @admin.display(description="status")
    def outcome(self, run: DestinationSyncRun) -> str:
        return sync_run_outcome(run)

    @admin.display(description="sent")
    def sent(self, run: DestinationSyncRun) -> int:
        return run.deliveries_sent

    @admin.display(description="failed")
    def failed(self, run: DestinationSyncRun) -> int:
        return run.deliveries_failed

    @admin.display(description="waiting")
    def waiting(self, run: DestinationSyncRun) -> int:
        return run.deliveries_waiting

    @admin.display(description="deliveries")
    def deliveries(self, run: DestinationSyncRun) -> str:
        return format_html(
            '<a href="{}?sync_run={}">The deliveries of this sync</a>',
            reverse("admin:destinations_delivery_changelist"),
            run.pk,
        )


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    form = DestinationForm
    formfield_overrides = PRETTY_JSON_OVERRIDES
    list_display = ("name", "kind", "resource", "enabled", "delay_seconds", "health")
    list_filter = ("enabled", "kind", "resource__type")
    list_select_related = ("resource",)
    search_fields = ("name",)
    readonly_fields = ("health", "settings_hint", "deliveries", "sync_runs")
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
                "fields": (
                    "required_consent",
                    "condition",
                    "mapping",
                    "settings_hint",
                    # The settings fields of every sender (get_fieldsets, plugins included).
                ),
                "description": "The condition and the mapping read profile@... (and event@... "
                "for event destinations).",
            },
        ),
        ("When", {"fields": ("delay_seconds", "max_delay_seconds")}),
        ("Event destinations", {"fields": ("event_type", "source")}),
        (
            "Scheduled sync (profile destinations)",
            {
                "fields": (
                    "sync_segment",
                    "sync_every",
                    "sync_time",
                    "sync_interval_hours",
                    "sync_crontab",
                    "removal_mapping",
                    "sync_runs",
                ),
                "description": "Send every profile of the audience segment (that passes the "
                "condition) on a schedule, or at once with the 'Send now' button above. It "
                "goes through the usual deliveries (retries, attempts, health). A profile that "
                "left the segment since the last sync is sent with the removal mapping. Fill "
                "in the field that goes with the schedule you choose.",
            },
        ),
        (None, {"fields": ("deliveries",)}),
    )

    def get_fieldsets(self, request, obj=None):
        settings_names = tuple(
            item.name for fields in settings_fields().values() for item in fields
        )
        return tuple(
            (name, {**options, "fields": (*options["fields"], *settings_names)})
            if name == "What is sent"
            else (name, options)
            for name, options in super().get_fieldsets(request, obj)
        )

    def get_queryset(self, request: HttpRequest):
        return destinations_with_health(super().get_queryset(request), now=timezone.now())

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # The beat entry follows the schedule fields (in the admin's transaction).
        destination_sync_schedule_apply(destination=obj)
        enabled_destinations_cached.cache_clear()

    def delete_model(self, request, obj) -> None:
        destination_delete(destination=obj)

    def delete_queryset(self, request, queryset) -> None:
        for destination in queryset:
            destination_delete(destination=destination)

    @admin.display(description="Last sync runs")
    def sync_runs(self, destination: Destination) -> str:
        if destination.pk is None:
            return "-"
        runs = list(
            sync_runs_with_deliveries(
                DestinationSyncRun.objects.filter(destination=destination).order_by("-started")
            )[:RECENT_SYNC_RUNS]
        )
        if not runs:
            return "No sync yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    object_link(
                        DestinationSyncRun,
                        run.pk,
                        timezone.localtime(run.started).strftime("%Y-%m-%d %H:%M:%S"),
                    ),
                    run.get_trigger_display()
                    + (f" ({run.requested_by})" if run.requested_by else ""),
                    sync_run_outcome(run),
                    run.members_queued,
                    run.already_pending,
                    run.skipped_by_condition,
                    run.removals_queued,
                    run.deliveries_sent,
                    run.deliveries_failed,
                    run.deliveries_waiting,
                )
                for run in runs
            ),
        )
        url = reverse("admin:destinations_destinationsyncrun_changelist")
        return format_html(
            "<table><thead><tr><th>started</th><th>trigger</th><th>status</th>"
            "<th>members queued</th><th>already pending</th><th>skipped by condition</th>"
            "<th>removals queued</th><th>sent</th><th>failed</th><th>waiting</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}?destination__id__exact={}">All sync runs'
            "</a></p>",
            rows,
            url,
            destination.pk,
        )

    @admin.display(description="health")
    def health(self, destination: Destination) -> str:
        if destination.pk is None:
            return "-"
        return health_line(destination)

    @admin.display(description="Settings")
    def settings_hint(self, destination: Destination) -> str:
        return format_html(
            '<span class="settings-hint">The settings below are those of the selected '
            "resource's type ({}); pick a resource to see them. Empty fields use the "
            "sender's default.</span>",
            ", ".join(SENDERS),
        )

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
        send_test = admin_view_requiring(self, self.send_test_view, "change")
        sync_now = admin_view_requiring(self, self.sync_now_view, "change")
        preview = admin_view_requiring(self, self.preview_mapping_view, "view")
        return [
            path("preview-mapping/", preview, name="destinations_destination_preview_mapping"),
            path("<path:object_id>/send-test/", send_test, name="destinations_destination_test"),
            path("<path:object_id>/sync-now/", sync_now, name="destinations_destination_sync"),
            *super().get_urls(),
        ]

    def preview_mapping_view(self, request: HttpRequest) -> HttpResponse:
        """POST {"mapping": ..., "profile_id": ""}: what the mapping sends for that profile."""
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            body = json.loads(request.body)
            mapping, profile_id = body["mapping"], str(body.get("profile_id") or "")
        except (ValueError, KeyError, TypeError):
            return JsonResponse(
                {"error": 'Send {"mapping": {...}, "profile_id": "..."}.'}, status=400
            )
        try:
            found, payload = mapping_preview(mapping=mapping, profile_id=profile_id.strip())
        except LookupError as error:
            return JsonResponse({"error": str(error.args[0])}, status=404)
        except NotationError as error:
            return JsonResponse({"error": f"The mapping does not render: {error}"}, status=400)
        return JsonResponse({"profile_id": found, "payload": payload})

    def sync_now_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """'Send now': the scheduled sync, started at once (POST)."""
        if request.method != "POST":
            return HttpResponse(status=405)
        destination = get_object_or_404(Destination, pk=object_id)
        if not self.has_change_permission(request, destination):
            raise PermissionDenied
        started = destination_sync_request(
            destination_id=destination.pk, requested_by=request.user.get_username()
        )
        self.message_user(
            request,
            started.message
            + (" Its progress is under 'Last sync runs' below." if started.run else ""),
            messages.SUCCESS if started.run else messages.WARNING,
        )
        return HttpResponseRedirect(
            reverse("admin:destinations_destination_change", args=[destination.pk])
        )

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
