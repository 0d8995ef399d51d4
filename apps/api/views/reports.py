"""Reports: list, read, create, replace and delete through the report services, and run one
with parameters (read-only: an API key with `reports:read` may run)."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.reports.definition import METRICS, PARAMETER_TYPES, ReportError
from apps.reports.models import Report
from apps.reports.running import report_run
from apps.reports.services import REPORT_FIELDS, report_save
from apps.reports.subjects import SUBJECTS


class ReportParameterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, help_text="Used in the filter as {{name}}.")
    type = serializers.ChoiceField(choices=PARAMETER_TYPES, default="text")
    default = serializers.CharField(
        max_length=500, allow_blank=True, default="", help_text="As text: 10, pro, true."
    )
    required = serializers.BooleanField(default=False)


class ReportSerializer(serializers.ModelSerializer):
    """A report; the whole definition is checked by the report services when written."""

    subject = serializers.ChoiceField(choices=list(SUBJECTS), default="event")
    metric = serializers.ChoiceField(choices=METRICS, default="count")
    parameters = ReportParameterSerializer(many=True, required=False, default=list)

    class Meta:
        model = Report
        fields = ("id", *REPORT_FIELDS, "parameters", "created", "updated")
        read_only_fields = ("id", "created", "updated")
        # The name's uniqueness is the service's to say (one message for the API and admin).
        extra_kwargs = {"name": {"validators": []}}

    def to_representation(self, report: Report) -> dict:
        data = super().to_representation(report)
        data["parameters"] = [
            {"name": p.name, "type": p.type, "default": p.default, "required": p.required}
            for p in report.parameters.all()
        ]
        return data


class RunSerializer(serializers.Serializer):
    parameters = serializers.DictField(
        required=False,
        default=dict,
        help_text='Values by parameter name, e.g. {"min_total": 10}; others take their default.',
    )


_RESULT = inline_serializer(
    "ReportResult",
    {
        "rows": inline_serializer(
            "ReportRow",
            {
                "group": serializers.CharField(allow_null=True),
                "value": serializers.FloatField(allow_null=True),
            },
            many=True,
        ),
        "parameters": serializers.DictField(),
        "elapsed_ms": serializers.FloatField(),
    },
)


@extend_schema_view(
    list=extend_schema(summary="List reports"),
    retrieve=extend_schema(summary="A report by id"),
    create=extend_schema(summary="Create a report"),
    update=extend_schema(summary="Replace a report (its parameters too)"),
    destroy=extend_schema(summary="Delete a report"),
)
class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    api_area = "reports"
    read_actions = ("run",)
    # Running reads: a signed-in user needs to view reports.
    staff_actions = {"run": "view"}
    serializer_class = ReportSerializer
    queryset = Report.objects.prefetch_related("parameters")
    # The primary key: unique, so cursor positions never tie.
    ordering = "id"
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = self._save(None, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer.instance, serializer.validated_data)

    def _save(self, report: Report | None, data: dict) -> Report:
        fields = {key: value for key, value in data.items() if key != "parameters"}
        try:
            return report_save(report=report, fields=fields, parameters=data["parameters"])
        except ReportError as error:
            raise exceptions.ValidationError(
                {error.field or "non_field_errors": [str(error)]}
            ) from error

    @extend_schema(
        summary="Run the report (read-only) with parameter values",
        request=RunSerializer,
        responses=_RESULT,
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        report = self.get_object()
        body = RunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = report_run(report=report, parameters=body.validated_data["parameters"])
        except ReportError as error:
            raise exceptions.ValidationError(
                {error.field or "non_field_errors": [str(error)]}
            ) from error
        return Response(
            {**result.document(), "elapsed_ms": round(result.elapsed_ms, 1)},
            status=status.HTTP_200_OK,
        )
