"""Admin for segments, identification points, merge records and erasure records. Imported by
apps.profiles.admin."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps import notation
from apps.core.admin_helpers import (
    PRETTY_JSON_OVERRIDES,
    ReadOnlyAdminMixin,
    admin_view_requiring,
    changelist_link,
    json_display,
    object_link,
)
from apps.core.widgets import ConditionBuilderAdminMixin, ConditionBuilderWidget
from apps.profiles.models import ErasureRecord, IdentificationPoint, MergeRecord, Profile, Segment
from apps.profiles.selectors import profile_paths_unheld, segment_preview
from apps.profiles.services.erasure import erasure_counts_text
from apps.profiles.services.identification import (
    identification_point_save,
    identification_points_by_type,
)
from apps.profiles.services.merge import MergeError
from apps.profiles.services.merge_undo import merge_undo
from apps.profiles.services.segments import live_segments, segment_member_count, segment_save
from apps.profiles.tasks import segment_evaluate_now, segment_evaluation_enqueue


def evaluation_percent(segment: Segment) -> int:
    if segment.evaluation_status == Segment.EvaluationStatus.DONE:
        return 100
    # The total is counted when it starts (an estimate past 100,000): 99% at most until done.
    return min(99, segment.evaluation_done * 100 // max(segment.evaluation_total, 1))


def evaluation_text(segment: Segment) -> str:
    """The latest evaluation over all profiles, as a marketer reads it."""
    status = segment.evaluation_status
    if status == Segment.EvaluationStatus.RUNNING:
        percent = evaluation_percent(segment)
        return (
            f"Evaluating… {percent}% ({segment.evaluation_done:,} of about "
            f"{segment.evaluation_total:,} profiles)"
        )
    if status == Segment.EvaluationStatus.DONE:
        finished = segment.last_evaluated_at
        when = f", finished {timezone.localtime(finished):%Y-%m-%d %H:%M:%S}" if finished else ""
        return f"Done: {segment.evaluation_done:,} profiles evaluated{when}"
    if status == Segment.EvaluationStatus.FAILED:
        return f"Failed after {segment.evaluation_done:,} profiles: {segment.evaluation_error}"
    return "Not evaluated over the existing profiles yet"


def unheld_paths_warning(paths: list[str]) -> str:
    return (
        f"No stored profile has {', '.join(paths)}: the condition reads nothing there yet. "
        "Check the spelling; the CDP itself fills profile@stats.visits, profile@stats.views "
        "and profile@metadata.time.visit.*, the rest comes from event mappings and workflows."
    )


@admin.action(
    description="Evaluate the selected segments over all profiles now", permissions=["change"]
)
def evaluate_now(modeladmin, request, queryset) -> None:
    started = []
    for segment in queryset.order_by("name"):
        if not segment.enabled:
            modeladmin.message_user(
                request, f"{segment.name}: disabled segments are not evaluated.", messages.WARNING
            )
            continue
        segment_evaluate_now(segment=segment)
        started.append(segment.name)
    if started:
        modeladmin.message_user(
            request,
            f"Evaluating {', '.join(started)} over all profiles in the background.",
            messages.SUCCESS,
        )


@admin.register(Segment)
class SegmentAdmin(ConditionBuilderAdminMixin, admin.ModelAdmin):
    """Segments, with a preview of the condition (how many profiles it matches now), the
    progress of the evaluation over all profiles that a save starts, and "Evaluate now"."""

    condition_builder_fields = {"condition": ConditionBuilderWidget(sources=("profile",))}

    change_form_template = "admin/profiles/segment/change_form.html"
    actions = (evaluate_now,)
    # The evaluation column says when the last one finished (last_evaluated_at).
    list_display = ("name", "kind_label", "enabled", "members", "evaluation")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "slug")
    fields = (
        "name",
        "slug",
        "description",
        "condition",
        "kind",
        "over_time",
        "enabled",
        "members",
        "evaluation",
        "created",
        "updated",
    )
    readonly_fields = ("slug", "over_time", "members", "evaluation", "created", "updated")

    def get_urls(self):
        return [
            path(
                "preview/",
                admin_view_requiring(self, self.preview_view, "view"),
                name="profiles_segment_preview",
            ),
            path(
                "<path:object_id>/evaluate/",
                admin_view_requiring(self, self.evaluate_view, "change"),
                name="profiles_segment_evaluate",
            ),
            path(
                "<path:object_id>/evaluation/",
                admin_view_requiring(self, self.evaluation_view, "view"),
                name="profiles_segment_evaluation",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change) -> None:
        run_before = obj.evaluation_run
        segment_save(segment=obj)
        if obj.evaluation_run != run_before:
            # The save began an evaluation (a new or changed condition, kind or enabled flag).
            segment_evaluation_enqueue(segment_id=obj.pk, run_id=obj.evaluation_run)
            self.message_user(
                request,
                f"{obj.name} is being evaluated over the {obj.evaluation_total:,} existing "
                "profiles in the background; its page shows the progress.",
                messages.INFO,
            )
        unheld = profile_paths_unheld(condition=obj.condition)
        if unheld:
            self.message_user(request, unheld_paths_warning(unheld), messages.WARNING)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        live_segments.cache_clear()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["preview_url"] = reverse("admin:profiles_segment_preview")
        if obj is not None and obj.pk:
            context["evaluate_url"] = reverse("admin:profiles_segment_evaluate", args=[obj.pk])
            context["evaluation_url"] = reverse("admin:profiles_segment_evaluation", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="members")
    def members(self, segment: Segment) -> str:
        if segment._state.adding:
            return "-"
        count = segment_member_count(segment=segment)
        # The profile list's segment filter (?segment=<slug>), served by the GIN index.
        return changelist_link(Profile, f"{count.label} profile(s)", segment=segment.slug)

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, segment: Segment) -> str:
        if segment.kind == Segment.Kind.SCHEDULED:
            return "Scheduled"
        return "Live, and swept as time passes" if segment.time_dependent else "Live"

    @admin.display(description="re-evaluated as time passes")
    def over_time(self, segment: Segment) -> str:
        if segment._state.adding:
            return "Decided when you save, from the condition"
        if not segment.time_dependent:
            return "No: the condition reads the profile only"
        every = settings.CDP_SEGMENT_SCHEDULE_SECONDS // 60
        also = ", and when an event it counts arrives" if segment.kind == Segment.Kind.LIVE else ""
        return (
            "Yes: the condition reads the person's events over time (count, sum, days_since, "
            f"...), so every profile is evaluated again every {every} min{also}"
        )

    @admin.display(description="evaluation over all profiles")
    def evaluation(self, segment: Segment) -> str:
        if segment._state.adding:
            return "Starts when you save"
        text = format_html(
            '<span class="cdp-evaluation" data-status="{}">{}</span>',
            segment.evaluation_status or "none",
            evaluation_text(segment),
        )
        if segment.evaluation_status != Segment.EvaluationStatus.RUNNING:
            return text
        return format_html(
            '<progress class="cdp-evaluation-bar" max="100" value="{}"></progress>{}',
            evaluation_percent(segment),
            text,
        )

    # --- views --------------------------------------------------------------------------

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """POST condition -> {"ok", "text", "warnings"} or {"ok": false, "error", "column"}."""
        if request.method != "POST":
            return JsonResponse({"detail": "POST the condition."}, status=405)
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        condition = request.POST.get("condition", "")
        try:
            preview = segment_preview(condition=condition)
            unheld = profile_paths_unheld(condition=condition)
        except notation.ConditionSyntaxError as error:
            return JsonResponse(
                {"ok": False, "error": str(error), "line": error.line, "column": error.column}
            )
        except notation.NotationError as error:
            return JsonResponse({"ok": False, "error": str(error), "line": None, "column": None})
        return JsonResponse(
            {
                "ok": True,
                "text": preview.text,
                "matched": preview.matched,
                "sample": preview.sample,
                "warnings": [unheld_paths_warning(unheld)] if unheld else [],
            }
        )

    def evaluate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return JsonResponse({"detail": "POST to evaluate."}, status=405)
        segment = get_object_or_404(Segment, pk=object_id)
        if not self.has_change_permission(request, segment):
            raise PermissionDenied
        evaluate_now(self, request, Segment.objects.filter(pk=segment.pk))
        return redirect("admin:profiles_segment_change", segment.pk)

    def evaluation_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        segment = get_object_or_404(Segment, pk=object_id)
        if not self.has_view_or_change_permission(request, segment):
            raise PermissionDenied
        return JsonResponse(
            {
                "status": segment.evaluation_status or "none",
                "percent": evaluation_percent(segment),
                "text": evaluation_text(segment),
                "members": str(self.members(segment)),
            }
        )


@admin.register(IdentificationPoint)
class IdentificationPointAdmin(admin.ModelAdmin):
    formfield_overrides = PRETTY_JSON_OVERRIDES
    list_display = ("name", "event_type", "source_name", "identifiers", "enabled")
    list_filter = ("enabled", "event_type")
    list_select_related = ("source",)
    search_fields = ("name", "event_type")
    fields = ("name", "description", "event_type", "source", "fields", "enabled")

    def save_model(self, request, obj, form, change) -> None:
        identification_point_save(point=obj)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        identification_points_by_type.cache_clear()

    @admin.display(description="source")
    def source_name(self, point: IdentificationPoint) -> str:
        return point.source.name if point.source_id else "any source"

    @admin.display(description="profile field = event property")
    def identifiers(self, point: IdentificationPoint) -> str:
        pairs = point.fields if isinstance(point.fields, list) else []
        return format_html_join(
            ", ",
            "{} = {}",
            ((pair.get("profile"), pair.get("event")) for pair in pairs if isinstance(pair, dict)),
        )


@admin.action(description="Undo the selected merges")
def undo_merges(modeladmin, request, queryset) -> None:
    if not request.user.has_perm("profiles.change_profile"):
        modeladmin.message_user(
            request, "Undoing a merge needs the permission to change profiles.", messages.ERROR
        )
        return
    # Newest first: a later merge of the same profile must be undone before an earlier one.
    for record in queryset.order_by("-created"):
        try:
            merge_undo(merge_id=record.pk, actor=request.user.get_username())
        except MergeError as error:
            modeladmin.message_user(request, f"Merge {record.pk}: {error}", messages.ERROR)
        else:
            modeladmin.message_user(
                request,
                f"Merge {record.pk} undone: {', '.join(record.merged_ids)} separated from "
                f"{record.survivor_id} again.",
                messages.SUCCESS,
            )


@admin.register(MergeRecord)
class MergeRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = (undo_merges,)
    list_display = ("created", "survivor_link", "merged", "reason", "actor", "status")
    list_filter = ("status",)
    ordering = ("-created",)
    search_fields = ("survivor_id",)
    search_help_text = "A profile id (the survivor's or a merged one)."
    fields = (
        "created",
        "survivor_link",
        "merged",
        "reason",
        "actor",
        "status",
        "undone_at",
        "undone_by",
        "repointed_json",
        "survivor_before_json",
        "merged_profiles_json",
    )
    readonly_fields = fields
    repointed_json = json_display("repointed", "rows moved to the survivor")
    survivor_before_json = json_display("survivor_before", "survivor before the merge")
    merged_profiles_json = json_display("merged_profiles", "merged profiles before the merge")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(survivor_id=term) | Q(merged_ids__contains=[term])), False

    @admin.display(description="survivor")
    def survivor_link(self, record: MergeRecord) -> str:
        return object_link(Profile, record.survivor_id)

    @admin.display(description="merged ids")
    def merged(self, record: MergeRecord) -> str:
        return ", ".join(record.merged_ids)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Erasures, running and done: the counts grow batch by batch while one runs."""

    list_display = (
        "started_at",
        "status",
        "ids",
        "actor",
        "counts",
        "deletion_requests",
        "erased_at",
    )
    list_filter = ("status",)
    ordering = ("-started_at",)
    search_fields = ("actor",)
    search_help_text = "An exact profile id, or the actor."
    fields = (
        "status",
        "started_at",
        "heartbeat_at",
        "erased_at",
        "ids",
        "actor",
        "counts",
        "deletion_requests",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(profile_ids__contains=[term]) | Q(actor=term)), False

    @admin.display(description="profile ids")
    def ids(self, record: ErasureRecord) -> str:
        return ", ".join(record.profile_ids)

    @admin.display(description="rows deleted (so far)")
    def counts(self, record: ErasureRecord) -> str:
        return erasure_counts_text(record) or "-"
