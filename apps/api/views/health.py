from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.health import health_checks, stats
from apps.api.permissions import HasScope


class HealthCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    lag_seconds = serializers.FloatField(required=False)


def _checks():
    return serializers.DictField(child=HealthCheckSerializer())


class HealthView(APIView):
    """Is the CDP working? No key needed: load balancers and monitors call it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        summary="Health of the CDP and its dependencies",
        responses={
            200: inline_serializer(
                "Health",
                {"status": serializers.CharField(), "checks": _checks()},
            ),
            503: inline_serializer(
                "HealthDown",
                {
                    "status": serializers.CharField(),
                    "detail": serializers.CharField(),
                    "checks": _checks(),
                },
            ),
        },
    )
    def get(self, request):
        checks = health_checks()
        body = {
            "status": "ok",
            "checks": {check.name: check.as_dict() for check in checks},
        }
        down = [check for check in checks if not check.ok]
        if not down:
            return Response(body)
        body["status"] = "down"
        body["detail"] = "Down: " + "; ".join(f"{check.name} ({check.detail})" for check in down)
        return Response(body, status=503)


class StatsView(APIView):
    """Traffic and backlog at a glance; any read scope."""

    permission_classes = [HasScope]
    api_area = "events"
    staff_permission = "events.view_event"

    @extend_schema(
        summary="Events per hour by type (24 h), profiles, queue depth, failed deliveries",
        responses=inline_serializer(
            "Stats",
            {
                "events_per_hour": serializers.ListField(child=serializers.DictField()),
                "profiles": serializers.DictField(),
                "queue_depth": serializers.DictField(),
                "failed_deliveries": serializers.DictField(),
                "at": serializers.DateTimeField(),
            },
        ),
    )
    def get(self, request):
        return Response(stats())
