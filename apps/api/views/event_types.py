"""Event types (schema and mapping rules) and identification points; the base of the routes
nested under an event type (/api/v1/event-types/<type>/...: reshaping, indexed properties)."""

from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, viewsets

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


EVENT_TYPE_PARAMETER = OpenApiParameter(
    "event_type",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The event type, as stored (e.g. purchase).",
)
# Reshaping, indexing and re-indexing are parts of the event type, as on its admin page (where
# they are edited on the type's form): a role that may change the type may change them.
EVENT_TYPE_READ, EVENT_TYPE_CHANGE = "events.view_eventtype", "events.change_eventtype"


class EventTypeChildMixin:
    """A route under /api/v1/event-types/<event_type>/: its objects are the type's (an unknown
    type answers 404 before anything is read or written)."""

    api_area = "events"
    lookup_value_regex = "[^/]+"
    staff_actions = {
        "list": EVENT_TYPE_READ,
        "retrieve": EVENT_TYPE_READ,
        "create": EVENT_TYPE_CHANGE,
        "update": EVENT_TYPE_CHANGE,
        "partial_update": EVENT_TYPE_CHANGE,
        "destroy": EVENT_TYPE_CHANGE,
    }

    event_type: EventType

    def initial(self, request, *args, **kwargs):
        # After the key and its scope are checked; before the body is read.
        super().initial(request, *args, **kwargs)
        self.event_type = _event_type_or_404(self.kwargs["event_type"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no type in the URL
            return self.queryset.none()
        return self.queryset.filter(event_type=self.event_type)

    def get_object(self):
        lookup = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
        try:
            if "\x00" in lookup:
                raise Http404
            return super().get_object()
        except Http404 as error:
            raise exceptions.NotFound(
                f"The {self.event_type.type} event type has no "
                f"{self.queryset.model._meta.verbose_name} {lookup!r}."
            ) from error


def _event_type_or_404(name: str) -> EventType:
    found = None if "\x00" in name else EventType.objects.filter(type=name).first()
    if found is None:
        raise exceptions.NotFound(
            f"There is no event type {name!r} (the list is at /api/v1/event-types/)."
        )
    return found
