"""Entities: list (by type, by profile), read, create or replace, delete, through the entity
services. The API may move an entity to another profile or change its type (workflows may not:
apps.profiles.services.entities)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from apps.api.errors import query_invalid
from apps.profiles.documents import entity_document
from apps.profiles.models import Entity
from apps.profiles.selectors import profile_find
from apps.profiles.services.entities import (
    MAX_ID_LENGTH,
    MAX_TYPE_LENGTH,
    EntityError,
    entity_delete,
    entity_type_clean,
    entity_upsert,
)


class EntitySerializer(serializers.Serializer):
    """An entity in Tracardi's shape (the document workflows see)."""

    id = serializers.CharField()
    type = serializers.CharField()
    profile = serializers.DictField(allow_null=True, help_text='{"id": ...}, or null (shared).')
    properties = serializers.DictField()
    traits = serializers.DictField()
    metadata = serializers.DictField(help_text='{"time": {"insert", "create", "update"}}')

    def to_representation(self, entity: Entity) -> dict:
        return entity_document(entity)


class EntityWriteSerializer(serializers.Serializer):
    """What a create or a replace sends; properties and traits replace the stored ones."""

    type = serializers.CharField(
        max_length=MAX_TYPE_LENGTH, help_text="e.g. order (stored lower case, spaces as -)."
    )
    profile_id = serializers.CharField(
        max_length=64,
        allow_null=True,
        required=False,
        default=None,
        help_text="The profile it belongs to (a merged id names its survivor); null: shared.",
    )
    properties = serializers.DictField(required=False, default=dict)
    traits = serializers.DictField(required=False, default=dict)


class EntityCreateSerializer(EntityWriteSerializer):
    id = serializers.CharField(max_length=MAX_ID_LENGTH, help_text="e.g. the order number.")


LIST_PARAMETERS = [
    OpenApiParameter("type", OpenApiTypes.STR, description="Only entities of this type."),
    OpenApiParameter(
        "profile", OpenApiTypes.STR, description="Only entities of this profile (its id)."
    ),
]


@extend_schema_view(
    list=extend_schema(summary="List entities", parameters=LIST_PARAMETERS),
    retrieve=extend_schema(summary="An entity by id"),
    destroy=extend_schema(summary="Delete an entity"),
)
class EntityViewSet(viewsets.ReadOnlyModelViewSet):
    api_area = "profiles"
    serializer_class = EntitySerializer
    queryset = Entity.objects.all()
    lookup_value_regex = "[^/]+"
    # The primary key: a unique, indexed cursor position at any table size.
    ordering = "id"

    def get_queryset(self):
        entities = Entity.objects.all()
        if self.action != "list":
            return entities
        params = self.request.query_params
        for name in ("type", "profile"):
            if "\x00" in params.get(name, ""):
                raise query_invalid(name, "The value contains a NUL character.")
        if params.get("type"):
            try:
                entities = entities.filter(type=entity_type_clean(params["type"]))
            except EntityError as error:
                raise query_invalid("type", str(error)) from error
        if params.get("profile"):
            entities = entities.filter(profile_id=params["profile"])
        return entities

    @extend_schema(
        summary="Create an entity, or replace the one with this id",
        request=EntityCreateSerializer,
        responses={200: EntitySerializer, 201: EntitySerializer},
    )
    def create(self, request):
        body = EntityCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._upsert(body.validated_data["id"], body.validated_data)

    @extend_schema(
        summary="Create or replace the entity with this id",
        request=EntityWriteSerializer,
        responses={200: EntitySerializer, 201: EntitySerializer},
    )
    def update(self, request, pk=None):
        body = EntityWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._upsert(pk, body.validated_data)

    def _upsert(self, entity_id: str, data: dict) -> Response:
        if "\x00" in entity_id:
            raise exceptions.ValidationError({"id": ["The entity id contains a NUL character."]})
        profile_id = data["profile_id"]
        if profile_id is not None:
            profile = profile_find(profile_id=profile_id)
            if profile is None:
                raise exceptions.ValidationError(
                    {"profile_id": [f"There is no profile {profile_id!r} (nor was it merged)."]}
                )
            profile_id = profile.pk
        try:
            entity, created = entity_upsert(
                entity_id=entity_id,
                entity_type=data["type"],
                profile_id=profile_id,
                properties=data["properties"],
                traits=data["traits"],
                own_only=False,
            )
        except EntityError as error:
            field = error.field or "non_field_errors"
            raise exceptions.ValidationError({field: [str(error)]}) from error
        return Response(
            EntitySerializer(entity).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def retrieve(self, request, pk=None):
        entity = None if "\x00" in pk else Entity.objects.filter(pk=pk).first()
        if entity is None:
            raise exceptions.NotFound(f"No entity has the id {pk!r}.")
        return Response(EntitySerializer(entity).data)

    def destroy(self, request, pk=None):
        try:
            deleted = entity_delete(entity_id=pk, profile_id=None, own_only=False)
        except EntityError as error:
            raise exceptions.NotFound(f"No entity has the id {pk!r}.") from error
        if not deleted:
            raise exceptions.NotFound(f"No entity has the id {pk!r}.")
        return Response(status=status.HTTP_204_NO_CONTENT)
