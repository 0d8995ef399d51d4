"""Event types (schema and mapping rules) and identification points."""

from django.db import transaction
from rest_framework import viewsets

from apps.api.serializers import EventTypeSerializer, IdentificationPointSerializer
from apps.events.models import EventType
from apps.events.services import (
    event_type_delete,
    event_type_mappings_replace,
    event_type_save,
)
from apps.profiles.models import IdentificationPoint
from apps.profiles.services.identification import (
    identification_point_save,
    identification_points_by_type,
)


class EventTypeViewSet(viewsets.ModelViewSet):
    """Addressed by the type itself (/api/v1/event-types/page-view/). `mappings`, when sent,
    replaces all the type's mapping rules, in the order given."""

    api_area = "events"
    serializer_class = EventTypeSerializer
    queryset = EventType.objects.prefetch_related("mappings")
    lookup_field = "type"
    lookup_value_regex = "[^/]+"
    ordering = "type"

    def perform_create(self, serializer):
        self._save(EventType(), serializer)

    def perform_update(self, serializer):
        self._save(serializer.instance, serializer)

    def _save(self, event_type: EventType, serializer) -> None:
        data = dict(serializer.validated_data)
        mappings = data.pop("mappings", None)
        for name, value in data.items():
            setattr(event_type, name, value)
        with transaction.atomic():
            event_type_save(event_type=event_type)
            if mappings is not None:
                event_type_mappings_replace(event_type=event_type, mappings=mappings)
        serializer.instance = EventType.objects.prefetch_related("mappings").get(pk=event_type.pk)

    def perform_destroy(self, instance):
        event_type_delete(event_type=instance)


class IdentificationPointViewSet(viewsets.ModelViewSet):
    api_area = "events"
    serializer_class = IdentificationPointSerializer
    queryset = IdentificationPoint.objects.all()
    ordering = "-created"

    def perform_create(self, serializer):
        serializer.instance = identification_point_save(
            point=IdentificationPoint(**serializer.validated_data)
        )

    def perform_update(self, serializer):
        point = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(point, name, value)
        serializer.instance = identification_point_save(point=point)

    def perform_destroy(self, instance):
        instance.delete()
        identification_points_by_type.cache_clear()
