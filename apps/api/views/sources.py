"""Event sources and redirect links: CRUD through apps.sources.services."""

from rest_framework import viewsets

from apps.api.serializers import EventSourceSerializer, RedirectLinkSerializer
from apps.sources.models import EventSource, RedirectLink
from apps.sources.services import (
    event_source_create,
    event_source_delete,
    event_source_update,
    redirect_link_create,
    redirect_link_update,
)


class EventSourceViewSet(viewsets.ModelViewSet):
    api_area = "sources"
    serializer_class = EventSourceSerializer
    queryset = EventSource.objects.all()
    ordering = "-created"

    def get_queryset(self):
        sources = super().get_queryset()
        params = self.request.query_params
        if "bridge" in params:
            sources = sources.filter(bridge=params["bridge"])
        if "enabled" in params:
            sources = sources.filter(enabled=params["enabled"].lower() in ("1", "true", "yes"))
        return sources

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = event_source_create(source_id=data.pop("id", None), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("id", None)
        serializer.instance = event_source_update(source=serializer.instance, **data)

    def perform_destroy(self, instance):
        event_source_delete(source=instance)


class RedirectLinkViewSet(viewsets.ModelViewSet):
    api_area = "sources"
    serializer_class = RedirectLinkSerializer
    queryset = RedirectLink.objects.select_related("source")
    ordering = "-created"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = redirect_link_create(
            link_id=data.pop("id", None),
            name=data["name"],
            url=data["url"],
            source=data["source"],
            event_type=data.get("event_type", "redirect"),
            props=data.get("props"),
            **{key: data[key] for key in ("description", "tags") if key in data},
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("id", None)
        serializer.instance = redirect_link_update(link=serializer.instance, **data)
