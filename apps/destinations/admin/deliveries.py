"""Deliveries: filters by status and destination, attempts inline, no full count, and retry
(bulk action and a button on a failed delivery)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.core.admin_helpers import (
    LargeTableAdminMixin,
    admin_view_requiring,
    object_link,
    pretty_json,
    related_id_filter,
    short_id,
)
from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.services import deliveries_retry
from apps.events.models import Event
from apps.profiles.models import ErasureRecord, Profile


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
    list_filter = (
        "status",
        "destination",
        "is_test",
        "is_removal",
        related_id_filter("profile", "profile"),
        related_id_filter("sync_run", "sync run"),
    )
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
        "is_removal",
        "sync_run",
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
        return queryset.filter(Q(pk=term) | Q(profile_id=term) | Q(event_id=term)), False

    @admin.display(description="delivery")
    def delivery_id(self, delivery: Delivery) -> str:
        return short_id(delivery.pk)

    @admin.display(description="profile / event")
    def target(self, delivery: Delivery) -> str:
        if delivery.erasure_id:
            # A deletion request: its profile is gone; the erasure record has the ids.
            return object_link(
                ErasureRecord, delivery.erasure_id, f"erasure {short_id(delivery.erasure_id)}"
            )
        if delivery.event_id:
            return object_link(Event, delivery.event_id)
        if delivery.is_removal:
            if delivery.profile_id is None:  # deleted or merged away since the last sync
                return f"removal of {delivery.removed_profile_id} (gone)"
            return format_html("removal of {}", object_link(Profile, delivery.profile_id))
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
        retry = admin_view_requiring(self, self.retry_view, "change")
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
