"""Indexed properties of an event type (/api/v1/event-types/<type>/indexed-properties/): list,
read, create, change, delete through the events services (validated as in the admin), the
re-index of the type's stored events in the background (the admin's button), and its jobs."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.actors import request_actor
from apps.api.schema import ERROR
from apps.api.views.event_types import (
    EVENT_TYPE_CHANGE,
    EVENT_TYPE_PARAMETER,
    EventTypeChildMixin,
)
from apps.core.exceptions import ApiError
from apps.events.indexing import ReindexUnderway
from apps.events.models import EventReindexJob, IndexedProperty
from apps.events.services import indexed_property_delete, indexed_property_save
from apps.events.tasks import reindex_start


class IndexedPropertySerializer(serializers.ModelSerializer):
    class Meta:
        model = IndexedProperty
        fields = ("id", "property", "trait", "type")
        read_only_fields = ("id",)
        # A PUT replaces it: a type left out is text, as for a new one.
        extra_kwargs = {"type": {"default": IndexedProperty.Type.TEXT}}


class ReindexJobSerializer(serializers.ModelSerializer):
    percent = serializers.SerializerMethodField(help_text="done / total, 0 to 100.")

    class Meta:
        model = EventReindexJob
        fields = (
            "id",
            "status",
            "total",
            "done",
            "percent",
            "requested_by",
            "requested_at",
            "finished_at",
            "error",
        )

    def get_percent(self, job: EventReindexJob) -> int:
        return min(100, 100 * job.done // job.total) if job.total else 100


@extend_schema(parameters=[EVENT_TYPE_PARAMETER])
@extend_schema_view(
    list=extend_schema(summary="List the indexed properties of an event type"),
    retrieve=extend_schema(summary="An indexed property of an event type"),
    create=extend_schema(summary="Index a property of an event type (for events stored next)"),
    update=extend_schema(summary="Replace an indexed property"),
    partial_update=extend_schema(summary="Change fields of an indexed property"),
    destroy=extend_schema(summary="Stop indexing a property"),
)
class IndexedPropertyViewSet(EventTypeChildMixin, viewsets.ModelViewSet):
    serializer_class = IndexedPropertySerializer
    queryset = IndexedProperty.objects.all()
    ordering = "trait"
    staff_actions = {**EventTypeChildMixin.staff_actions, "reindex": EVENT_TYPE_CHANGE}

    def perform_create(self, serializer):
        serializer.instance = indexed_property_save(
            indexed=IndexedProperty(event_type=self.event_type, **serializer.validated_data)
        )

    def perform_update(self, serializer):
        indexed = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(indexed, name, value)
        serializer.instance = indexed_property_save(indexed=indexed)

    def perform_destroy(self, instance):
        indexed_property_delete(indexed=instance)

    @extend_schema(
        summary="Re-index the type's stored events in the background",
        description="Applies the indexed properties to the events already stored (new events "
        "get them as they arrive). Answers with the job; follow it at its Location.",
        request=None,
        responses={
            202: ReindexJobSerializer,
            409: OpenApiResponse(ERROR, description="A re-index of the type is under way."),
        },
    )
    @action(detail=False, methods=["post"])
    def reindex(self, request, event_type=None):
        try:
            job = reindex_start(event_type=self.event_type, actor=request_actor(request))
        except ReindexUnderway as error:
            raise ApiError(str(error), status_code=409) from error
        location = reverse(
            "api:event-type-reindex-job-detail",
            kwargs={"event_type": self.event_type.type, "pk": job.pk},
        )
        return Response(ReindexJobSerializer(job).data, status=202, headers={"Location": location})


@extend_schema(parameters=[EVENT_TYPE_PARAMETER])
@extend_schema_view(
    list=extend_schema(summary="Re-index jobs of an event type, newest first"),
    retrieve=extend_schema(summary="A re-index job, with its progress"),
)
class ReindexJobViewSet(EventTypeChildMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ReindexJobSerializer
    queryset = EventReindexJob.objects.all()
    ordering = ("-requested_at", "id")
