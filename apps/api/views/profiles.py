"""Profiles: read one (an id merged away resolves to its survivor), search."""

import re

from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps import notation
from apps.api.actors import request_actor
from apps.api.errors import query_invalid
from apps.api.pagination import ApiCursorPagination
from apps.api.serializers import (
    ErasureSerializer,
    EventSerializer,
    MergeSerializer,
    ProfileEditedSerializer,
    ProfileEditSerializer,
    ProfileSerializer,
    RunSerializer,
    SessionSerializer,
)
from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.profiles.search import (
    IDENTIFIERS,
    PHONE_DIGITS,
    PHONE_MIN,
    profile_matches,
    trait_condition,
    typed_values,
)
from apps.profiles.selectors import (
    ConditionNotSearchable,
    profile_document_lines,
    profile_find,
    profiles_for_export,
    profiles_matching,
)
from apps.profiles.services.erasure import ProfileNotFound
from apps.profiles.services.merge import MergeError, profiles_merge
from apps.profiles.services.writes import profile_edit
from apps.profiles.tasks import profile_erasure_start
from apps.workflows.models import WorkflowRun

TRAIT_PREFIX = "trait."


@extend_schema_view(
    list=extend_schema(
        summary="Search profiles",
        parameters=[
            OpenApiParameter("email", OpenApiTypes.STR, description="Main e-mail, any case."),
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="What the admin's search box takes: a name, e-mail, phone, "
                "identifier or profile id.",
            ),
            OpenApiParameter(
                "phone", OpenApiTypes.STR, description="Any format; at least 6 digits."
            ),
            OpenApiParameter(
                "identifier",
                OpenApiTypes.STR,
                description="A data.identifier value (customer id, loyalty card) or a merged id.",
            ),
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
    """Profiles in Tracardi's shape. Writes go through the profile services: an edit is
    stamped per field and followed by segments and destination syncs like the admin's."""

    api_area = "profiles"
    staff_actions = {"merge": "change", "forget": "delete"}
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
        if params.get("q"):
            profiles = profile_matches(profiles, params["q"])
        if params.get("phone"):
            digits = re.sub(r"\D", "", params["phone"])
            if len(digits) < PHONE_MIN:
                raise query_invalid("phone", f"Give at least {PHONE_MIN} digits of the number.")
            profiles = profiles.alias(search_phone=PHONE_DIGITS).filter(
                search_phone__contains=digits
            )
        if params.get("identifier"):
            term = params["identifier"]
            profiles = profiles.alias(search_identifiers=IDENTIFIERS).filter(
                Q(ids__contains=[term])
                | Q(search_identifiers__contains=[term])
                | Q(search_identifiers__contains=typed_values(term)[-1:])
            )
        if params.get("segment"):
            profiles = profiles.filter(segments__contains=[params["segment"]])
        for name, text in params.items():
            if name.startswith(TRAIT_PREFIX) and len(name) > len(TRAIT_PREFIX):
                profiles = profiles.filter(trait_condition(name[len(TRAIT_PREFIX) :], text))
        return profiles

    def _found(self, pk: str) -> Profile:
        profile = profile_find(profile_id=pk)
        if profile is None:
            raise exceptions.NotFound(f"No profile has the id {pk!r} (nor was it merged into one).")
        return profile

    def retrieve(self, request, pk=None):
        profile = self._found(pk)
        body = ProfileSerializer(profile).data
        headers = {}
        if profile.pk != pk:
            # Merged away: the survivor answers, and says so.
            body = {**body, "merged_from": pk}
            headers["Content-Location"] = request.build_absolute_uri(f"../{profile.pk}/")
        return Response(body, headers=headers)

    @extend_schema(
        summary="Replace some of a profile's objects (traits, data, interests, ...)",
        request=ProfileEditSerializer,
        responses=ProfileEditedSerializer,
    )
    def partial_update(self, request, pk=None):
        profile = self._found(pk)
        edit = ProfileEditSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        changed = profile_edit(
            profile_id=profile.pk, changes=edit.validated_data, actor=request_actor(request)
        )
        profile.refresh_from_db()
        return Response({"changed": changed, "profile": ProfileSerializer(profile).data})

    @extend_schema(
        summary="Merge profiles into the first one",
        request=MergeSerializer,
        responses={200: ProfileSerializer},
    )
    @action(detail=False, methods=["post"])
    def merge(self, request):
        merge = MergeSerializer(data=request.data)
        merge.is_valid(raise_exception=True)
        try:
            survivor = profiles_merge(
                profile_ids=merge.validated_data["profile_ids"],
                reason=merge.validated_data["reason"],
                actor=request_actor(request),
            )
        except MergeError as error:
            raise exceptions.ValidationError({"profile_ids": [str(error)]}) from error
        return Response(ProfileSerializer(survivor).data)

    @extend_schema(
        summary="Forget a person (erasure in the background)",
        request=None,
        responses={202: ErasureSerializer},
    )
    @action(detail=True, methods=["post"])
    def forget(self, request, pk=None):
        try:
            record = profile_erasure_start(profile_id=pk, actor=request_actor(request))
        except ProfileNotFound as error:
            raise exceptions.NotFound(str(error)) from error
        return Response(ErasureSerializer(record).data, status=202)

    @extend_schema(summary="The profile's sessions, newest first", responses=SessionSerializer)
    @action(detail=True)
    def sessions(self, request, pk=None):
        profile = self._found(pk)
        sessions = Session.objects.filter(profile=profile).order_by("-updated")
        return self._page(sessions, SessionSerializer, ordering="-updated")

    @extend_schema(summary="The profile's events, newest first", responses=EventSerializer)
    @action(detail=True)
    def events(self, request, pk=None):
        profile = self._found(pk)
        events = Event.objects.filter(profile=profile)
        return self._page(events, EventSerializer, ordering="-time")

    @extend_schema(summary="The profile's workflow runs, newest first", responses=RunSerializer)
    @action(detail=True)
    def runs(self, request, pk=None):
        profile = self._found(pk)
        runs = WorkflowRun.objects.filter(profile=profile)
        return self._page(runs, RunSerializer, ordering="-started")

    def _page(self, queryset, serializer_class, *, ordering: str) -> Response:
        paginator = ApiCursorPagination()
        paginator.ordering = ordering
        page = paginator.paginate_queryset(queryset, self.request, view=None)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(
        summary="Export profiles as JSON Lines (Tracardi's shape), streamed",
        parameters=[
            OpenApiParameter("segment", OpenApiTypes.STR, description="Only this segment."),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    @action(detail=False, pagination_class=None)
    def export(self, request):
        segment = request.query_params.get("segment") or None
        lines = profile_document_lines(profiles_for_export(segment=segment))
        response = StreamingHttpResponse(
            (line + b"\n" for line in lines), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = 'attachment; filename="profiles.jsonl"'
        return response
