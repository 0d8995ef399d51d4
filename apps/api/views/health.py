from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.health import health_checks, stats
from apps.api.permissions import HasScope
from apps.core.plugins import plugins_report
from apps.profiles.geo import geo_warning


class HealthCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    lag_seconds = serializers.FloatField(required=False)


def _checks():
    return serializers.DictField(child=HealthCheckSerializer())


def _warnings():
    return serializers.ListField(
        child=serializers.CharField(),
        help_text="What works in a degraded way but does not make the CDP down "
        "(e.g. GeoIP off because its database file cannot be read).",
    )


def health_warnings() -> list[str]:
    return [warning for warning in (geo_warning(),) if warning]


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
                {
                    "status": serializers.CharField(),
                    "checks": _checks(),
                    "plugins": serializers.DictField(),
                    "warnings": _warnings(),
                },
            ),
            503: inline_serializer(
                "HealthDown",
                {
                    "status": serializers.CharField(),
                    "detail": serializers.CharField(),
                    "checks": _checks(),
                    "plugins": serializers.DictField(),
                    "warnings": _warnings(),
                },
            ),
        },
    )
    def get(self, request):
        checks = health_checks()
        body = {
            "status": "ok",
            "checks": {check.name: check.as_dict() for check in checks},
            # A skipped plugin is reported, not a failure: the rest of the CDP works.
            "plugins": plugins_report(),
            "warnings": health_warnings(),
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
