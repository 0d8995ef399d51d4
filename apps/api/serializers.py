"""The management API's shapes of the CDP's objects (requests and responses)."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core.text import normalise_event_type
from apps.destinations.models import Delivery, Destination, Resource
from apps.events.documents import event_document
from apps.events.models import Event, EventImportJob, EventType, EventTypeMapping
from apps.profiles.documents import profile_document, session_document
from apps.profiles.models import (
    ConsentType,
    ErasureRecord,
    IdentificationPoint,
    ImportJob,
    Profile,
    Segment,
    Session,
)
from apps.profiles.services.writes import EDITABLE_FIELDS
from apps.sources.models import EventSource, RedirectLink
from apps.workflows.graph import graph_problems
from apps.workflows.models import Rule, Workflow, WorkflowRun


class EventSourceSerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="Chosen once, at creation (a new UUID when left out); clients carry it.",
    )

    class Meta:
        model = EventSource
        fields = (
            "id",
            "name",
            "description",
            "bridge",
            "enabled",
            "transitional",
            "channel",
            "tags",
            "config",
            "retention_days",
            "created",
            "updated",
        )
        read_only_fields = ("created", "updated")

    def validate_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.pk:
            raise serializers.ValidationError("The id of an event source cannot change.")
        return value


class RedirectLinkSerializer(serializers.ModelSerializer):
    id = serializers.CharField(max_length=64, required=False)
    source = serializers.PrimaryKeyRelatedField(queryset=EventSource.objects.all())

    class Meta:
        model = RedirectLink
        fields = ("id", "name", "description", "url", "event_type", "source", "props", "tags")

    def validate_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.pk:
            raise serializers.ValidationError("The id of a redirect link cannot change.")
        return value


@extend_schema_serializer(component_name="Profile")
class ProfileSerializer(serializers.Serializer):
    """A profile in Tracardi's shape (the document workflows and exports see)."""

    id = serializers.CharField()
    ids = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    segments = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField()
    stats = serializers.DictField()
    traits = serializers.DictField()
    interests = serializers.DictField()
    consents = serializers.DictField()
    aux = serializers.DictField()
    data = serializers.DictField()
    merged_from = serializers.CharField(
        required=False, help_text="The id asked for, when it was merged into this profile."
    )

    def to_representation(self, profile: Profile) -> dict:
        return profile_document(profile)


class ProfileEditSerializer(serializers.Serializer):
    """Each given object replaces the profile's (as the admin's edit does)."""

    active = serializers.BooleanField(required=False)
    traits = serializers.DictField(required=False)
    interests = serializers.DictField(required=False)
    consents = serializers.DictField(required=False)
    aux = serializers.DictField(required=False)
    data = serializers.DictField(required=False)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(EDITABLE_FIELDS))
        if unknown:
            raise serializers.ValidationError(
                f"Not editable: {', '.join(unknown)}; editable: {', '.join(EDITABLE_FIELDS)}."
            )
        if not attrs:
            raise serializers.ValidationError(
                f"Send at least one of: {', '.join(EDITABLE_FIELDS)}."
            )
        return attrs


class ProfileEditedSerializer(serializers.Serializer):
    changed = serializers.ListField(child=serializers.CharField(), help_text="Dot paths.")
    profile = ProfileSerializer()


class MergeSerializer(serializers.Serializer):
    profile_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=2,
        max_length=100,
        help_text="The first one survives; the others are merged into it.",
    )
    reason = serializers.CharField(max_length=500, default="Merged through the API")


class ErasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = ErasureRecord
        fields = ("id", "profile_ids", "actor", "status", "started_at", "erased_at", "deleted")


class SessionSerializer(serializers.Serializer):
    def to_representation(self, session: Session) -> dict:
        return session_document(session)


class EventSerializer(serializers.Serializer):
    """An event in Tracardi's shape, with its processing status."""

    id = serializers.CharField()
    type = serializers.CharField()
    time = serializers.DateTimeField()
    status = serializers.CharField()
    status_message = serializers.CharField()
    properties = serializers.DictField()

    def to_representation(self, event: Event) -> dict:
        return {
            **event_document(event),
            "status": event.status,
            "status_message": event.status_message,
        }


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkflowRun
        fields = (
            "id",
            "workflow",
            "workflow_version",
            "event_ref",
            "event_type",
            "profile",
            "status",
            "error",
            "error_node",
            "started",
            "duration_ms",
        )


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started = serializers.DateTimeField()
    outcome = serializers.CharField()
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)


class DeliveryOutcomeSerializer(serializers.Serializer):
    id = serializers.CharField()
    destination = serializers.CharField(source="destination.name")
    destination_id = serializers.CharField()
    status = serializers.CharField()
    last_error = serializers.CharField()
    attempts = AttemptSerializer(many=True, source="attempts_log.all")


class EventLineageSerializer(serializers.Serializer):
    """The event, how it was received and validated, what it caused."""

    event = EventSerializer()
    runs = RunSerializer(many=True)
    deliveries = DeliveryOutcomeSerializer(many=True)


class SegmentSerializer(serializers.ModelSerializer):
    """Validated by the segment services (name clash, condition syntax with its column)."""

    class Meta:
        model = Segment
        fields = (
            "id",
            "name",
            "slug",
            "description",
            "condition",
            "kind",
            "enabled",
            "last_evaluated_at",
            "evaluation_status",
            "evaluation_total",
            "evaluation_done",
            "evaluation_error",
            "created",
            "updated",
        )
        read_only_fields = (
            "id",
            "slug",
            "last_evaluated_at",
            "evaluation_status",
            "evaluation_total",
            "evaluation_done",
            "evaluation_error",
            "created",
            "updated",
        )
        # The name's uniqueness is checked by the service, with a message that names the clash.
        extra_kwargs = {"name": {"validators": []}}


class EventTypeMappingSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventTypeMapping
        fields = ("profile_path", "event_path", "operation", "amount", "condition", "enabled")


class EventTypeSerializer(serializers.ModelSerializer):
    mappings = EventTypeMappingSerializer(many=True, required=False)

    class Meta:
        model = EventType
        fields = (
            "type",
            "name",
            "description",
            "journey_state",
            "tags",
            "json_schema",
            "predefined",
            "mappings",
            "created",
            "updated",
        )
        read_only_fields = ("predefined", "created", "updated")
        # The type's spelling and uniqueness are checked by the service (with the fix).
        extra_kwargs = {"type": {"validators": []}}


class IdentificationPointSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(
        queryset=EventSource.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = IdentificationPoint
        fields = (
            "id",
            "name",
            "description",
            "event_type",
            "source",
            "fields",
            "enabled",
            "created",
            "updated",
        )
        read_only_fields = ("id", "created", "updated")


class WorkflowSerializer(serializers.ModelSerializer):
    """`graph` is what runs (the deployed version); `draft` what is being edited."""

    draft = serializers.JSONField(required=False, help_text="Only on create; then PUT draft/.")
    problems = serializers.SerializerMethodField(help_text="The draft's, by node.")

    class Meta:
        model = Workflow
        fields = (
            "id",
            "name",
            "description",
            "enabled",
            "version",
            "deployed_at",
            "graph",
            "draft",
            "revision",
            "draft_saved",
            "problems",
            "created",
            "updated",
        )
        read_only_fields = (
            "id",
            "version",
            "deployed_at",
            "graph",
            "revision",
            "draft_saved",
            "created",
            "updated",
        )

    def get_problems(self, workflow: Workflow) -> list[dict]:
        return [problem.as_dict() for problem in graph_problems(workflow.draft)]


class RuleSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(
        queryset=EventSource.objects.all(), allow_null=True, required=False
    )
    workflow = serializers.PrimaryKeyRelatedField(queryset=Workflow.objects.all())

    class Meta:
        model = Rule
        fields = (
            "id",
            "name",
            "description",
            "event_type",
            "source",
            "workflow",
            "enabled",
            "required_consent",
            "created",
            "updated",
        )
        read_only_fields = ("id", "created", "updated")

    def validate_event_type(self, value: str) -> str:
        stored = normalise_event_type(value)
        if not stored:
            raise serializers.ValidationError("Write the event type, e.g. page-view.")
        if stored != value:
            raise serializers.ValidationError(f"Write the event type as stored: {stored!r}.")
        return value


class ResourceSerializer(serializers.ModelSerializer):
    """`credentials` and `test_credentials` (used by workflow test runs) can be written, never
    read: answers say which keys are set."""

    credentials = serializers.DictField(write_only=True, required=False)
    credential_keys = serializers.SerializerMethodField()
    test_credentials = serializers.DictField(write_only=True, required=False)
    test_credential_keys = serializers.SerializerMethodField()

    class Meta:
        model = Resource
        fields = (
            "id",
            "name",
            "description",
            "type",
            "credentials",
            "credential_keys",
            "test_credentials",
            "test_credential_keys",
            "created",
            "updated",
        )
        read_only_fields = ("id", "created", "updated")

    def get_credential_keys(self, resource: Resource) -> list[str]:
        return sorted(resource.credentials or {})

    def get_test_credential_keys(self, resource: Resource) -> list[str]:
        return sorted(resource.test_credentials or {})


class DestinationSerializer(serializers.ModelSerializer):
    resource = serializers.PrimaryKeyRelatedField(queryset=Resource.objects.all())
    source = serializers.PrimaryKeyRelatedField(
        queryset=EventSource.objects.all(), allow_null=True, required=False
    )
    sync_segment = serializers.PrimaryKeyRelatedField(
        queryset=Segment.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Destination
        fields = (
            "id",
            "name",
            "description",
            "resource",
            "kind",
            "condition",
            "mapping",
            "settings",
            "delay_seconds",
            "max_delay_seconds",
            "enabled",
            "forward_erasures",
            "event_type",
            "source",
            "sync_segment",
            "sync_every",
            "sync_time",
            "sync_interval_hours",
            "sync_crontab",
            "removal_mapping",
            "required_consent",
            "created",
            "updated",
        )
        read_only_fields = ("id", "created", "updated")


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = (
            "id",
            "destination",
            "profile",
            "event",
            "status",
            "is_test",
            "due_at",
            "attempts",
            "changed_fields",
            "last_error",
            "finished_at",
            "created",
            "updated",
        )


# What every import job answers (ImportJobBase): its file, status and progress.
_IMPORT_JOB_FILE = ("id", "file_name", "file_size", "format", "encoding")
_IMPORT_JOB_PROGRESS = (
    "status",
    "rows_total",
    "rows",
    "skipped",
    "seconds",
    "uploaded_at",
    "uploaded_by",
    "started_by",
    "started_at",
    "progress_at",
    "finished_at",
    "error",
)


class ImportJobSerializer(serializers.ModelSerializer):
    """A profile import: its file, mapping, status and progress (poll it)."""

    class Meta:
        model = ImportJob
        fields = (
            *_IMPORT_JOB_FILE,
            "columns",
            "mapping",
            "match",
            "empty",
            *_IMPORT_JOB_PROGRESS,
            *ImportJob.COUNTS,
        )
        read_only_fields = fields


class EventImportJobSerializer(serializers.ModelSerializer):
    """An import of historic events: its file, options, status and progress (poll it)."""

    class Meta:
        model = EventImportJob
        fields = (
            *_IMPORT_JOB_FILE,
            "source_id",
            "match",
            *_IMPORT_JOB_PROGRESS,
            *EventImportJob.COUNTS,
        )
        read_only_fields = fields


class ConsentTypeSerializer(serializers.ModelSerializer):
    id = serializers.SlugField(max_length=64, help_text="What profiles carry in `consents`.")

    class Meta:
        model = ConsentType
        fields = (
            "id",
            "name",
            "description",
            "enabled",
            "revokable",
            "default_granted",
            "required",
            "auto_revoke_days",
            "created",
            "updated",
        )
        read_only_fields = ("created", "updated")

    def validate_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.pk:
            raise serializers.ValidationError("The id of a consent type cannot change.")
        if self.instance is None and ConsentType.objects.filter(pk=value).exists():
            raise serializers.ValidationError(f"A consent type has the id {value!r} already.")
        return value
