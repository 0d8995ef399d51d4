"""Admin for segments, identification points, merge records and erasure records. Imported by
apps.profiles.admin."""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html_join

from apps.core.admin_helpers import (
    PRETTY_JSON_OVERRIDES,
    ReadOnlyAdminMixin,
    changelist_link,
    json_display,
    object_link,
)
from apps.profiles.models import ErasureRecord, IdentificationPoint, MergeRecord, Profile, Segment
from apps.profiles.services.erasure import erasure_counts_text
from apps.profiles.services.identification import (
    identification_point_save,
    identification_points_by_type,
)
from apps.profiles.services.merge import MergeError
from apps.profiles.services.merge_undo import merge_undo
from apps.profiles.services.segments import live_segments, segment_member_count, segment_save


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "enabled", "members", "last_evaluated_at")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "slug")
    fields = (
        "name",
        "slug",
        "description",
        "condition",
        "kind",
        "enabled",
        "members",
        "last_evaluated_at",
        "created",
        "updated",
    )
    readonly_fields = ("slug", "members", "last_evaluated_at", "created", "updated")

    def save_model(self, request, obj, form, change) -> None:
        segment_save(segment=obj)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        live_segments.cache_clear()

    @admin.display(description="members")
    def members(self, segment: Segment) -> str:
        if not segment.pk:
            return "-"
        count = segment_member_count(segment=segment)
        # The profile list's segment filter (?segment=<slug>), served by the GIN index.
        return changelist_link(Profile, f"{count.label} profile(s)", segment=segment.slug)


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
