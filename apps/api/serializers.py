"""The management API's shapes of the CDP's objects (requests and responses)."""

from rest_framework import serializers

from apps.profiles.documents import profile_document
from apps.profiles.models import Profile
from apps.sources.models import EventSource, RedirectLink


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


class ProfileSerializer(serializers.Serializer):
    """A profile in Tracardi's shape (the document workflows and exports see)."""

    def to_representation(self, profile: Profile) -> dict:
        return profile_document(profile)
