"""Events: listed by profile, session, type, source, status and time; one with its lineage;
quarantined ones re-validated."""

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.errors import query_invalid
from apps.api.serializers import EventLineageSerializer, EventSerializer
from apps.destinations.models import Delivery
from apps.events.models import Event
from apps.tracking.revalidate import events_revalidate
from apps.workflows.models import WorkflowRun

FILTERS = ("profile", "session", "type", "source", "status")


def _time(params, name: str):
    text = params.get(name)
    if not text:
        return None
    moment = parse_datetime(text)
    if moment is None or moment.tzinfo is None:
        raise query_invalid(name, "An ISO 8601 time with its zone, e.g. 2026-12-01T00:00:00Z.")
    return moment


class RevalidateSerializer(serializers.Serializer):
    event_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=10_000
    )


@extend_schema_view(
    list=extend_schema(
        summary="Events, newest first",
        parameters=[
            *(OpenApiParameter(name, OpenApiTypes.STR) for name in FILTERS),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Inserted at or after."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Inserted before."),
        ],
    ),
    retrieve=extend_schema(
        summary="One event with its lineage: validation, workflow runs, deliveries",
        responses=EventLineageSerializer,
    ),
)
class EventViewSet(viewsets.ReadOnlyModelViewSet):
    api_area = "events"
    # Releasing quarantined events is the quarantine's work (the Developer role's).
    staff_actions = {"revalidate": "events.change_quarantinedevent"}
    serializer_class = EventSerializer
    queryset = Event.objects.all()
    # Served by the event_inserted index; new events come first, so a page walk never
    # repeats or loses one.
    ordering = "-inserted"

    def get_queryset(self):
        events = super().get_queryset()
        if self.action != "list":
            return events
        params = self.request.query_params
        status = params.get("status")
        if status and status not in Event.Status.values:
            raise query_invalid("status", f"One of: {', '.join(Event.Status.values)}.")
        filters = {
            f"{name}_id" if name in ("profile", "session", "source") else name: params[name]
            for name in FILTERS
            if params.get(name)
        }
        events = events.filter(**filters)
        since, until = _time(params, "since"), _time(params, "until")
        if since:
            events = events.filter(inserted__gte=since)
        if until:
            events = events.filter(inserted__lt=until)
        return events

    def retrieve(self, request, pk=None):
        event = Event.objects.filter(pk=pk).first()
        if event is None:
            raise exceptions.NotFound(f"No event has the id {pk!r} (or it was purged).")
        runs = WorkflowRun.objects.filter(event_id=event.pk).order_by("started")
        deliveries = (
            Delivery.objects.filter(event_id=event.pk)
            .select_related("destination")
            .prefetch_related("attempts_log")
            .order_by("created")
        )
        body = EventLineageSerializer(
            {"event": event, "runs": list(runs), "deliveries": list(deliveries)}
        ).data
        return Response(body)

    @extend_schema(
        summary="Check quarantined events again (after their type's schema was fixed)",
        request=RevalidateSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["post"])
    def revalidate(self, request):
        body = RevalidateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        valid, still_invalid = events_revalidate(event_ids=body.validated_data["event_ids"])
        return Response({"released": valid, "still_invalid": still_invalid})
