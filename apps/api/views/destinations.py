"""Resources (credentials are write-only: never answered), destinations (validated as in the
admin; scheduled syncs kept in step), deliveries (list, retry)."""

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.actors import request_actor
from apps.api.errors import query_invalid
from apps.api.serializers import (
    DeliverySerializer,
    DestinationSerializer,
    ResourceSerializer,
)
from apps.destinations.models import Delivery, Destination, Resource
from apps.destinations.services.config import (
    destination_create,
    destination_delete,
    destination_update,
    resource_create,
)
from apps.destinations.services.manual import deliveries_retry
from apps.destinations.tasks import destination_sync_request


class ResourceViewSet(viewsets.ModelViewSet):
    api_area = "destinations"
    serializer_class = ResourceSerializer
    queryset = Resource.objects.all()
    ordering = "-created"

    def perform_create(self, serializer):
        serializer.instance = resource_create(**serializer.validated_data)

    def perform_update(self, serializer):
        resource = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(resource, name, value)
        resource.full_clean()
        resource.save()


class DestinationViewSet(viewsets.ModelViewSet):
    api_area = "destinations"
    staff_actions = {"sync_now": "change"}
    serializer_class = DestinationSerializer
    queryset = Destination.objects.select_related("resource")
    ordering = "-created"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        source = data.pop("source", None)
        segment = data.pop("sync_segment", None)
        # Fields destination_create does not take are set right after, in its transaction.
        later = {name: data.pop(name) for name in ("forward_erasures",) if name in data}
        with transaction.atomic():
            destination = destination_create(
                source_id=source.pk if source else None,
                sync_segment_id=segment.pk if segment else None,
                **data,
            )
            if later:
                destination = destination_update(destination=destination, **later)
        serializer.instance = destination

    def perform_update(self, serializer):
        serializer.instance = destination_update(
            destination=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        destination_delete(destination=instance)

    @extend_schema(
        summary="Send the destination's segment now (a scheduled sync run)",
        request=None,
        responses=inline_serializer(
            "SyncStarted", {"run": serializers.CharField(), "message": serializers.CharField()}
        ),
    )
    @action(detail=True, methods=["post"], url_path="sync-now")
    def sync_now(self, request, pk=None):
        destination = self.get_object()
        started = destination_sync_request(
            destination_id=destination.pk, requested_by=request_actor(request)
        )
        return Response(
            {"run": started.run.pk if started.run else None, "message": started.message},
            status=202 if started.run else 200,
        )


class RetrySerializer(serializers.Serializer):
    delivery_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=10_000
    )


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    api_area = "destinations"
    staff_actions = {"retry": "change"}
    serializer_class = DeliverySerializer
    queryset = Delivery.objects.all()
    ordering = "-created"

    def get_queryset(self):
        deliveries = super().get_queryset()
        if self.action != "list":
            return deliveries
        params = self.request.query_params
        status = params.get("status")
        if status and status not in Delivery.Status.values:
            raise query_invalid("status", f"One of: {', '.join(Delivery.Status.values)}.")
        filters = {
            "status": status,
            "destination_id": params.get("destination"),
            "profile_id": params.get("profile"),
        }
        return deliveries.filter(**{key: value for key, value in filters.items() if value})

    @extend_schema(
        summary="Send failed deliveries again now",
        request=RetrySerializer,
        responses=inline_serializer(
            "RetrySummary",
            {
                "requeued": serializers.IntegerField(),
                "merged": serializers.IntegerField(),
                "not_failed": serializers.IntegerField(),
            },
        ),
    )
    @action(detail=False, methods=["post"])
    def retry(self, request):
        body = RetrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        summary = deliveries_retry(delivery_ids=body.validated_data["delivery_ids"])
        return Response(
            {
                "requeued": summary.requeued,
                "merged": summary.merged,
                "not_failed": summary.not_failed,
            }
        )
