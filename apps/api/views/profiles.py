"""Profiles: read one (an id merged away resolves to its survivor), search."""

from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets
from rest_framework.response import Response

from apps import notation
from apps.api.errors import query_invalid
from apps.api.serializers import ProfileSerializer
from apps.profiles.models import Profile
from apps.profiles.selectors import ConditionNotSearchable, profile_find, profiles_matching

TRAIT_PREFIX = "trait."


def _typed(text: str) -> list:
    """The JSON values a query-string value may stand for: 42 matches 42 and "42"."""
    values: list = [text]
    if text in ("true", "false"):
        values.append(text == "true")
    try:
        number = float(text)
    except ValueError:
        return values
    values.append(int(number) if number.is_integer() else number)
    return values


def _nested(path: str, value) -> dict:
    document = value
    for key in reversed(path.split(".")):
        document = {key: document}
    return document


@extend_schema_view(
    list=extend_schema(
        summary="Search profiles",
        parameters=[
            OpenApiParameter("email", OpenApiTypes.STR, description="Main e-mail, any case."),
            OpenApiParameter("segment", OpenApiTypes.STR, description="A segment's slug."),
            OpenApiParameter(
                "condition",
                OpenApiTypes.STR,
                description="Logic notation, e.g. profile@stats.visits > 3",
            ),
            OpenApiParameter(
                "trait.<path>",
                OpenApiTypes.STR,
                description='A trait value, e.g. trait.plan=gold (42 matches 42 and "42").',
            ),
        ],
    ),
    retrieve=extend_schema(summary="A profile by id, or by an id merged into it"),
)
class ProfileViewSet(viewsets.ReadOnlyModelViewSet):
    api_area = "profiles"
    serializer_class = ProfileSerializer
    queryset = Profile.objects.all()
    # The primary key: a unique, indexed cursor position at any table size.
    ordering = "id"

    def get_queryset(self):
        if self.action != "list":
            return super().get_queryset()
        params = self.request.query_params
        profiles = Profile.objects.all()
        condition = params.get("condition", "").strip()
        if condition:
            try:
                profiles = profiles_matching(condition)
            except (notation.NotationError, ConditionNotSearchable) as error:
                raise query_invalid("condition", str(error)) from error
        if params.get("email"):
            profiles = profiles.alias(email_main_lower=Lower(KT("data__contact__email__main")))
            profiles = profiles.filter(email_main_lower=params["email"].strip().lower())
        if params.get("segment"):
            profiles = profiles.filter(segments__contains=[params["segment"]])
        for name, text in params.items():
            if name.startswith(TRAIT_PREFIX) and len(name) > len(TRAIT_PREFIX):
                path = name[len(TRAIT_PREFIX) :]
                any_type = Q()
                for value in _typed(text):
                    any_type |= Q(traits__contains=_nested(path, value))
                profiles = profiles.filter(any_type)
        return profiles

    def retrieve(self, request, pk=None):
        profile = profile_find(profile_id=pk)
        if profile is None:
            raise exceptions.NotFound(f"No profile has the id {pk!r} (nor was it merged into one).")
        body = ProfileSerializer(profile).data
        headers = {}
        if profile.pk != pk:
            # Merged away: the survivor answers, and says so.
            body = {**body, "merged_from": pk}
            headers["Content-Location"] = request.build_absolute_uri(f"../{profile.pk}/")
        return Response(body, headers=headers)
