"""Imports, the same jobs as the admin's. Profiles: upload a file (its columns read and a
mapping suggested), adjust the mapping, start, poll the progress, cancel. Events (historic,
stored as processed): upload JSON Lines or a JSON array with the source and match options,
start, poll, cancel."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.api.actors import request_actor
from apps.api.parsers import ApiJSONParser
from apps.api.serializers import EventImportJobSerializer, ImportJobSerializer
from apps.core.exceptions import ApiError
from apps.events.import_jobs import event_import_job_upload
from apps.events.models import EventImportJob
from apps.events.tasks import import_job_start as event_import_job_start
from apps.profiles.models import ImportJob
from apps.profiles.services.imports.jobs import (
    ImportJobError,
    import_job_cancel,
    import_job_configure,
    import_job_upload,
)
from apps.profiles.services.imports.readers import ImportFileError
from apps.profiles.tasks import import_job_start


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, JSON Lines or a JSON array.")
    encoding = serializers.CharField(default="utf-8")


class ConfigureSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text='{column: profile field, or "" to ignore the column}',
    )
    match = serializers.CharField(help_text='"id" or the identifier field rows are matched by.')
    empty = serializers.ChoiceField(choices=ImportJob.Empty.choices, default=ImportJob.Empty.KEEP)


class ProfileImportViewSet(viewsets.ReadOnlyModelViewSet):
    api_area = "imports"
    staff_actions = {"configure": "change", "start": "change", "cancel": "change"}
    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.all()
    ordering = "-uploaded_at"
    parser_classes = [ApiJSONParser, MultiPartParser]

    @extend_schema(
        summary="Upload a file: a draft import with its columns and a suggested mapping",
        request={"multipart/form-data": UploadSerializer},
        responses={201: ImportJobSerializer},
    )
    def create(self, request):
        body = UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = import_job_upload(
                uploaded=body.validated_data["file"],
                encoding=body.validated_data["encoding"],
                actor=request_actor(request),
            )
        except ImportFileError as error:
            raise exceptions.ValidationError({"file": [str(error)]}) from error
        return Response(ImportJobSerializer(job).data, status=201)

    @extend_schema(
        summary="Set the column mapping and options of a draft import",
        request=ConfigureSerializer,
        responses=ImportJobSerializer,
    )
    @action(detail=True, methods=["post"])
    def configure(self, request, pk=None):
        job = self.get_object()
        body = ConfigureSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = import_job_configure(job_id=job.pk, **body.validated_data)
        except ImportJobError as error:
            raise ApiError(str(error)) from error
        return Response(ImportJobSerializer(job).data)

    @extend_schema(
        summary="Start a draft import in the background",
        request=None,
        responses={202: ImportJobSerializer},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        job = self.get_object()
        try:
            job = import_job_start(job_id=job.pk, actor=request_actor(request))
        except ImportJobError as error:
            raise ApiError(str(error), status_code=409) from error
        return Response(ImportJobSerializer(job).data, status=202)

    @extend_schema(
        summary="Cancel an import (a running one stops after its batch)",
        request=None,
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        try:
            job = import_job_cancel(job_id=job.pk, actor=request_actor(request))
        except ImportJobError as error:
            raise ApiError(str(error), status_code=409) from error
        return Response(ImportJobSerializer(job).data)


class EventUploadSerializer(UploadSerializer):
    source = serializers.CharField(
        required=False,
        default="",
        help_text="The event source of events that name none (empty: each names its own).",
    )
    match = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text='"PROFILE_FIELD=EVENT_PATH" pairs that find the profile; empty: the '
        "profile id each event names.",
    )


class EventImportViewSet(viewsets.ReadOnlyModelViewSet):
    api_area = "imports"
    staff_actions = {"start": "change", "cancel": "change"}
    serializer_class = EventImportJobSerializer
    queryset = EventImportJob.objects.all()
    ordering = "-uploaded_at"
    parser_classes = [ApiJSONParser, MultiPartParser]

    @extend_schema(
        summary="Upload historic events: a draft import",
        request={"multipart/form-data": EventUploadSerializer},
        responses={201: EventImportJobSerializer},
    )
    def create(self, request):
        body = EventUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = event_import_job_upload(
                uploaded=body.validated_data["file"],
                encoding=body.validated_data["encoding"],
                source_id=body.validated_data["source"],
                match=body.validated_data["match"],
                actor=request_actor(request),
            )
        except ImportFileError as error:
            raise exceptions.ValidationError({"file": [str(error)]}) from error
        return Response(EventImportJobSerializer(job).data, status=201)

    @extend_schema(
        summary="Start a draft event import in the background",
        request=None,
        responses={202: EventImportJobSerializer},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        job = self.get_object()
        try:
            job = event_import_job_start(job_id=job.pk, actor=request_actor(request))
        except ImportJobError as error:
            raise ApiError(str(error), status_code=409) from error
        return Response(EventImportJobSerializer(job).data, status=202)

    @extend_schema(
        summary="Cancel an event import", request=None, responses=EventImportJobSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        try:
            job = import_job_cancel(
                job_id=job.pk, actor=request_actor(request), model=EventImportJob
            )
        except ImportJobError as error:
            raise ApiError(str(error), status_code=409) from error
        return Response(EventImportJobSerializer(job).data)
