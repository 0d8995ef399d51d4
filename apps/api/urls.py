from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.api.views.consents import ConsentTypeViewSet
from apps.api.views.destinations import DeliveryViewSet, DestinationViewSet, ResourceViewSet
from apps.api.views.entities import EntityViewSet
from apps.api.views.event_types import EventTypeViewSet, IdentificationPointViewSet
from apps.api.views.events import EventViewSet
from apps.api.views.health import HealthView, StatsView
from apps.api.views.imports import EventImportViewSet, ProfileImportViewSet
from apps.api.views.indexing import IndexedPropertyViewSet, ReindexJobViewSet
from apps.api.views.profiles import ProfileViewSet
from apps.api.views.reports import ReportViewSet
from apps.api.views.reshaping import ReshapingViewSet
from apps.api.views.segments import SegmentViewSet
from apps.api.views.sources import EventSourceViewSet, RedirectLinkViewSet
from apps.api.views.workflows import RuleViewSet, WorkflowViewSet

router = DefaultRouter(trailing_slash="/?")
router.register("sources", EventSourceViewSet, basename="source")
router.register("redirect-links", RedirectLinkViewSet, basename="redirect-link")
router.register("profiles", ProfileViewSet, basename="profile")
router.register("events", EventViewSet, basename="event")
router.register("entities", EntityViewSet, basename="entity")
router.register("segments", SegmentViewSet, basename="segment")
router.register("reports", ReportViewSet, basename="report")
router.register("consent-types", ConsentTypeViewSet, basename="consent-type")
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("rules", RuleViewSet, basename="rule")
router.register("resources", ResourceViewSet, basename="resource")
router.register("destinations", DestinationViewSet, basename="destination")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("imports/profiles", ProfileImportViewSet, basename="profile-import")
router.register("imports/events", EventImportViewSet, basename="event-import")
router.register("event-types", EventTypeViewSet, basename="event-type")
# Parts of an event type, addressed under it (the type as stored, as in /event-types/<type>/).
EVENT_TYPE = "event-types/(?P<event_type>[^/]+)"
router.register(f"{EVENT_TYPE}/reshaping", ReshapingViewSet, basename="event-type-reshaping")
router.register(
    f"{EVENT_TYPE}/indexed-properties", IndexedPropertyViewSet, basename="event-type-indexed"
)
router.register(f"{EVENT_TYPE}/reindex-jobs", ReindexJobViewSet, basename="event-type-reindex-job")
router.register(
    "identification-points", IdentificationPointViewSet, basename="identification-point"
)

v1 = [
    path("health", HealthView.as_view(), name="health"),
    path("stats", StatsView.as_view(), name="stats"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("api/v1/", include((v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
