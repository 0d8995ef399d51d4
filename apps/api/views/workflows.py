"""Workflows (graphs in the shape Tracardi exports; a draft edited while the deployed version
runs), their validation, test runs, deploys, Tracardi import/export; and the rules that route
events to them. Everything goes through apps.workflows.services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.authentication import KeyHolder
from apps.api.serializers import RuleSerializer, WorkflowSerializer
from apps.core.exceptions import ApiError
from apps.workflows.graph import GraphInvalid, graph_problems
from apps.workflows.models import Rule, Workflow
from apps.workflows.services.drafts import (
    DeployRefused,
    DraftConflict,
    DraftShapeError,
    workflow_deploy,
    workflow_draft_save,
)
from apps.workflows.services.test_run import TestRunError, workflow_test_run
from apps.workflows.services.tracardi_io import workflow_import_tracardi
from apps.workflows.services.workflows import workflow_add, workflow_details_save
from apps.workflows.tracardi import (
    TracardiFlowError,
    tracardi_flow_export,
    tracardi_flow_import,
)


def _user(request):
    """The admin user behind a request, for the draft's "saved by" (none for an API key)."""
    return None if isinstance(request.user, KeyHolder) else request.user


class GraphSerializer(serializers.Serializer):
    graph = serializers.JSONField(help_text='{"nodes": [...], "edges": [...]}')


class DraftSerializer(GraphSerializer):
    revision = serializers.IntegerField(help_text="The draft revision this change is based on.")


class RevisionSerializer(serializers.Serializer):
    revision = serializers.IntegerField(help_text="The draft revision to deploy.")


class TestRunSerializer(serializers.Serializer):
    event_id = serializers.CharField(required=False, help_text="A stored event's id.")
    sample = serializers.JSONField(required=False, help_text="Or an event given here.")
    profile_less = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if not attrs.get("event_id") and attrs.get("sample") is None:
            raise serializers.ValidationError("Give an event_id or a sample event.")
        return attrs


class WorkflowViewSet(viewsets.ModelViewSet):
    api_area = "workflows"
    staff_actions = {
        "draft": "change",
        "deploy": "change",
        "validate": "view",
        "test_run": "change",
        "import_tracardi": "add",
    }
    serializer_class = WorkflowSerializer
    queryset = Workflow.objects.all()
    ordering = "-created"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        draft = data.pop("draft", None)
        workflow = Workflow(**data)
        workflow.full_clean(exclude=["graph", "draft"])
        try:
            serializer.instance = workflow_add(
                workflow=workflow, user=_user(self.request), draft=draft
            )
        except DraftShapeError as error:
            raise exceptions.ValidationError({"draft": [str(error)]}) from error

    def perform_update(self, serializer):
        workflow = serializer.instance
        data = dict(serializer.validated_data)
        if "draft" in data:
            raise exceptions.ValidationError(
                {"draft": ["Change the draft with PUT .../draft/ and its revision."]}
            )
        for name, value in data.items():
            setattr(workflow, name, value)
        serializer.instance = workflow_details_save(workflow=workflow)

    @extend_schema(
        summary="Save the draft (409 if someone saved it since your revision)",
        request=DraftSerializer,
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["put"])
    def draft(self, request, pk=None):
        workflow = self.get_object()
        body = DraftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            saved = workflow_draft_save(
                workflow=workflow,
                graph=body.validated_data["graph"],
                revision=body.validated_data["revision"],
                user=_user(request),
            )
        except DraftShapeError as error:
            raise exceptions.ValidationError({"graph": [str(error)]}) from error
        except DraftConflict as conflict:
            raise ApiError(str(conflict), status_code=409) from conflict
        return Response(
            {"revision": saved.revision, "problems": [p.as_dict() for p in saved.problems]}
        )

    @extend_schema(
        summary="Deploy the draft as a new version",
        request=RevisionSerializer,
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["post"])
    def deploy(self, request, pk=None):
        workflow = self.get_object()
        body = RevisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            version = workflow_deploy(
                workflow=workflow, revision=body.validated_data["revision"], user=_user(request)
            )
        except DraftConflict as conflict:
            raise ApiError(str(conflict), status_code=409) from conflict
        except DeployRefused as refused:
            raise ApiError(
                [
                    {
                        "loc": ["draft", "nodes", p.node_id] if p.node_id else ["draft"],
                        "msg": str(p),
                        "type": "graph_problem",
                    }
                    for p in refused.problems
                ]
            ) from refused
        return Response({"version": version.version, "deployed_at": version.deployed_at})

    @extend_schema(
        summary="Problems of a graph (empty: it can be deployed)",
        request=GraphSerializer,
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=False, methods=["post"])
    def validate(self, request):
        body = GraphSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        problems = graph_problems(body.validated_data["graph"])
        return Response({"problems": [problem.as_dict() for problem in problems]})

    @extend_schema(
        summary="Run the draft once on an event; nothing is saved",
        request=TestRunSerializer,
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["post"], url_path="test-run")
    def test_run(self, request, pk=None):
        workflow = self.get_object()
        body = TestRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = workflow_test_run(
                workflow=workflow,
                event_id=body.validated_data.get("event_id"),
                sample=body.validated_data.get("sample"),
                profile_less=body.validated_data["profile_less"],
            )
        except GraphInvalid as invalid:
            raise ApiError(str(invalid)) from invalid
        except TestRunError as error:
            raise ApiError(str(error)) from error
        outcome = result.outcome
        return Response(
            {
                "status": outcome.status,
                "error": outcome.error,
                "error_node": outcome.error_node,
                "duration_ms": outcome.duration_ms,
                "log": outcome.log,
                "profile_changed_fields": result.changed_fields,
                "profile_after": result.profile_after,
                "injected_events": result.injected,
            }
        )

    @extend_schema(summary="The draft as a Tracardi flow (JSON)", responses=OpenApiTypes.OBJECT)
    @action(detail=True, url_path="export")
    def export(self, request, pk=None):
        workflow = self.get_object()
        return Response(
            tracardi_flow_export(
                workflow_id=workflow.pk,
                name=workflow.name,
                description=workflow.description,
                graph=workflow.draft,
            )
        )

    @extend_schema(
        summary="A new workflow (a draft) from a Tracardi flow",
        request=OpenApiTypes.OBJECT,
        responses={201: WorkflowSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_tracardi(self, request):
        if not isinstance(request.data, dict):
            raise ApiError("Send a Tracardi flow: a JSON object.")
        try:
            flow = tracardi_flow_import(request.data)
        except TracardiFlowError as error:
            raise ApiError(str(error)) from error
        workflow = workflow_import_tracardi(flow=flow, user=_user(request))
        body = WorkflowSerializer(workflow).data
        return Response({**body, "import_notes": flow.notes}, status=201)


class RuleViewSet(viewsets.ModelViewSet):
    api_area = "workflows"
    serializer_class = RuleSerializer
    queryset = Rule.objects.all()
    ordering = "-created"

    def perform_create(self, serializer):
        rule = Rule(**serializer.validated_data)
        rule.full_clean()
        rule.save()
        serializer.instance = rule

    def perform_update(self, serializer):
        rule = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(rule, name, value)
        rule.full_clean()
        rule.save()
        serializer.instance = rule
