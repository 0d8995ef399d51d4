"""Segments: CRUD through the segment services (a new or changed condition is evaluated over
all profiles in the background), members, count, and a dry run of a condition."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps import notation
from apps.api.pagination import ApiCursorPagination
from apps.api.serializers import ProfileSerializer, SegmentSerializer
from apps.profiles.models import Profile, Segment
from apps.profiles.selectors import segment_preview
from apps.profiles.services.segments import live_segments, segment_member_count, segment_save
from apps.profiles.tasks import segment_evaluate_now, segment_evaluation_enqueue

_COUNT = inline_serializer(
    "SegmentCount",
    {"count": serializers.IntegerField(), "kind": serializers.CharField()},
)


class DryRunSerializer(serializers.Serializer):
    condition = serializers.CharField(max_length=10_000)


class SegmentViewSet(viewsets.ModelViewSet):
    api_area = "segments"
    staff_actions = {"evaluate": "change", "dry_run": "view"}
    serializer_class = SegmentSerializer
    queryset = Segment.objects.all()
    ordering = "-created"

    def perform_create(self, serializer):
        self._save(Segment(**serializer.validated_data), serializer)

    def perform_update(self, serializer):
        segment = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(segment, name, value)
        self._save(segment, serializer)

    def _save(self, segment: Segment, serializer) -> None:
        run_before = segment.evaluation_run
        segment_save(segment=segment)
        if segment.evaluation_run != run_before:
            segment_evaluation_enqueue(segment_id=segment.pk, run_id=segment.evaluation_run)
        serializer.instance = segment

    def perform_destroy(self, instance):
        instance.delete()
        live_segments.cache_clear()

    @extend_schema(summary="Profiles in the segment", responses=ProfileSerializer(many=True))
    @action(detail=True)
    def members(self, request, pk=None):
        segment = self.get_object()
        paginator = ApiCursorPagination()
        paginator.ordering = "id"
        members = Profile.objects.filter(segments__contains=[segment.slug])
        page = paginator.paginate_queryset(members, request, view=None)
        return paginator.get_paginated_response(ProfileSerializer(page, many=True).data)

    @extend_schema(summary="How many profiles are in the segment", responses=_COUNT)
    @action(detail=True)
    def count(self, request, pk=None):
        counted = segment_member_count(segment=self.get_object())
        return Response({"count": counted.value, "kind": counted.kind})

    @extend_schema(summary="Evaluate the segment over all profiles now", request=None)
    @action(detail=True, methods=["post"])
    def evaluate(self, request, pk=None):
        segment = self.get_object()
        run = segment_evaluate_now(segment=segment)
        return Response({"evaluation_run": run}, status=202)

    @extend_schema(
        summary="How many profiles a condition matches now (nothing is saved)",
        request=DryRunSerializer,
        responses=inline_serializer(
            "SegmentDryRun",
            {
                "matched": serializers.IntegerField(),
                "evaluated": serializers.IntegerField(),
                "total": serializers.IntegerField(),
                "sample": serializers.BooleanField(),
                "text": serializers.CharField(),
            },
        ),
    )
    @action(detail=False, methods=["post"], url_path="dry-run")
    def dry_run(self, request):
        body = DryRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            preview = segment_preview(condition=body.validated_data["condition"])
        except notation.NotationError as error:
            raise exceptions.ValidationError({"condition": [str(error)]}) from error
        return Response(
            {
                "matched": preview.matched,
                "evaluated": preview.evaluated,
                "total": preview.total.value,
                "sample": preview.sample,
                "text": preview.text,
            }
        )
