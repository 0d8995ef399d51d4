"""Event reshaping rules of an event type (/api/v1/event-types/<type>/reshaping/): list, read,
create, change, delete through the events services (validated as the admin's form validates
them), and a preview of what reshaping makes of a stored event (the admin's preview)."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.views.event_types import EVENT_TYPE_PARAMETER, EVENT_TYPE_READ, EventTypeChildMixin
from apps.events.models import Event, EventReshaping
from apps.events.reshaping import reshaping_compile
from apps.events.selectors import ReshapingPreview, reshaping_preview
from apps.events.services import reshaping_delete, reshaping_save
from apps.events.validation import MAX_CONDITION_LENGTH
from apps.sources.models import EventSource


class ReshapingSerializer(serializers.ModelSerializer):
    """A reshaping rule. Templates are objects whose leaves may be references (event@...,
    session@context...); they and the condition are checked by the events services."""

    source = serializers.CharField(
        source="source_id",
        max_length=64,
        allow_null=True,
        required=False,
        default=None,
        help_text="Only events from this event source (its id); null: from every source.",
    )

    class Meta:
        model = EventReshaping
        fields = (
            "id",
            "name",
            "position",
            "enabled",
            "source",
            "condition",
            "properties",
            "context",
            "session",
        )
        read_only_fields = ("id",)
        # A PUT replaces the rule: what it leaves out takes the defaults of a new rule.
        extra_kwargs = {
            "position": {"default": 0},
            "enabled": {"default": True},
            # As the admin's condition check allows.
            "condition": {"default": "", "max_length": MAX_CONDITION_LENGTH},
            "properties": {"default": None},
            "context": {"default": None},
            "session": {"default": None},
        }

    def validate_source(self, value: str | None) -> str | None:
        if value is not None and not EventSource.objects.filter(pk=value).exists():
            raise serializers.ValidationError(
                f"There is no event source {value!r} (the list is at /api/v1/sources/)."
            )
        return value


class ReshapingTrySerializer(ReshapingSerializer):
    """A rule tried without saving it: the same fields, the name optional."""

    class Meta(ReshapingSerializer.Meta):
        extra_kwargs = {
            **ReshapingSerializer.Meta.extra_kwargs,
            "name": {"required": False, "default": "preview"},
        }


class ReshapingPreviewSerializer(serializers.Serializer):
    event_id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="A stored event of this type; the newest stored one when left out.",
    )
    reshaping = ReshapingTrySerializer(
        required=False, help_text="A rule to try (not saved), e.g. before creating it."
    )
    reshaping_id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="One saved rule of this type, enabled or not. With neither `reshaping` nor "
        "`reshaping_id`: the type's enabled rules, the first that matches, as at ingestion.",
    )

    def validate(self, attrs: dict) -> dict:
        if "reshaping" in attrs and "reshaping_id" in attrs:
            raise serializers.ValidationError(
                "Send `reshaping` (a rule to try) or `reshaping_id` (a saved one), not both."
            )
        return attrs


class ReshapingPreviewResultSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    reshaped_by = serializers.CharField(
        allow_null=True, help_text="The name of the rule that applied; null: none did."
    )
    message = serializers.CharField(help_text="What happened, in a sentence.")
    as_stored = serializers.DictField(help_text='{"properties", "context"} of the event.')
    reshaped = serializers.DictField(
        allow_null=True,
        help_text='{"properties", "context", "session_context"} as reshaped (session_context: '
        "what is merged into the session's context); null when no rule applied.",
    )


@extend_schema(parameters=[EVENT_TYPE_PARAMETER])
@extend_schema_view(
    list=extend_schema(summary="List the reshaping rules of an event type (in their order)"),
    retrieve=extend_schema(summary="A reshaping rule of an event type"),
    create=extend_schema(summary="Add a reshaping rule to an event type"),
    update=extend_schema(summary="Replace a reshaping rule"),
    partial_update=extend_schema(summary="Change fields of a reshaping rule"),
    destroy=extend_schema(summary="Delete a reshaping rule"),
)
class ReshapingViewSet(EventTypeChildMixin, viewsets.ModelViewSet):
    serializer_class = ReshapingSerializer
    queryset = EventReshaping.objects.all()
    # The order in which they are tried at ingestion.
    ordering = ("position", "id")
    staff_actions = {**EventTypeChildMixin.staff_actions, "preview": EVENT_TYPE_READ}
    # The preview POSTs a body but changes nothing: a read scope is enough.
    read_actions = ("preview",)

    def perform_create(self, serializer):
        serializer.instance = reshaping_save(
            reshaping=EventReshaping(event_type=self.event_type, **serializer.validated_data)
        )

    def perform_update(self, serializer):
        reshaping = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(reshaping, name, value)
        serializer.instance = reshaping_save(reshaping=reshaping)

    def perform_destroy(self, instance):
        reshaping_delete(reshaping=instance)

    @extend_schema(
        summary="Preview reshaping on a stored event (nothing is changed)",
        request=ReshapingPreviewSerializer,
        responses=ReshapingPreviewResultSerializer,
    )
    @action(detail=False, methods=["post"])
    def preview(self, request, event_type=None):
        body = ReshapingPreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        reshapings = None
        if "reshaping" in data:
            rule = EventReshaping(event_type=self.event_type, **data["reshaping"])
            try:
                rule.full_clean()
            except ValidationError as error:
                raise exceptions.ValidationError(
                    {f"reshaping.{key}": value for key, value in error.message_dict.items()}
                ) from error
            reshapings = (reshaping_compile(rule),)
        elif "reshaping_id" in data:
            rule = self.event_type.reshapings.filter(pk=data["reshaping_id"]).first()
            if rule is None:
                raise exceptions.ValidationError(
                    {"reshaping_id": [f"The {self.event_type.type} type has no reshaping rule "
                     f"{data['reshaping_id']} (its rules are at this route's list)."]}
                )  # fmt: skip
            reshapings = (reshaping_compile(rule),)
        event = None
        if "event_id" in data:
            event = Event.objects.filter(pk=data["event_id"], type=self.event_type.type).first()
            if event is None:
                raise exceptions.ValidationError(
                    {"event_id": [f"No stored {self.event_type.type} event has the id "
                     f"{data['event_id']!r}."]}
                )  # fmt: skip
        preview = reshaping_preview(event_type=self.event_type, reshapings=reshapings, event=event)
        if preview.event is None:
            raise exceptions.ValidationError(
                {"event_id": [f"No {self.event_type.type} event is stored yet: send one, "
                 "then preview."]}
            )  # fmt: skip
        return Response(_preview_document(preview))


def _preview_document(preview: ReshapingPreview) -> dict:
    event, reshaped = preview.event, preview.reshaped
    document = {
        "event_id": event.pk,
        "reshaped_by": None,
        "as_stored": {"properties": event.properties, "context": event.context},
        "reshaped": None,
    }
    if reshaped is None:
        message = "No enabled reshaping: events of this type are stored as sent."
    elif reshaped.warning:
        message = reshaped.warning
    elif not reshaped.applied:
        message = "No reshaping matches this event (its source or the conditions)."
    else:
        message = f"Reshaped by {reshaped.applied!r}."
        document["reshaped_by"] = reshaped.applied
        document["reshaped"] = {
            "properties": reshaped.properties,
            "context": reshaped.context,
            "session_context": reshaped.session_context,
        }
    return {**document, "message": message}
