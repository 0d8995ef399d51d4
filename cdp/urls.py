from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from apps.tracking import tracker
from cdp.docsite.views import docs_view

# JSON under /track, /collect and /redirect; Django's pages elsewhere.
handler400 = "apps.tracking.errors.bad_request_view"
handler404 = "apps.tracking.errors.not_found_view"
handler500 = "apps.tracking.errors.server_error_view"

urlpatterns = [
    # The root is the marketers' front door: the admin (its login for anyone signed out).
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("admin/", admin.site.urls),
    # The manual, built from docs/ by `python3 run.py docs` (linked from the admin's header).
    path("docs/", docs_view, name="docs"),
    path("docs/<path:path>", docs_view, name="docs-page"),
    # The management API (/api/v1/) and its OpenAPI schema and docs (/api/schema/, /api/docs/).
    path("", include("apps.api.urls")),
    path("", include("apps.tracking.urls")),
    # The browser tracker: script files, a staff test page per source, a development demo.
    path("tracker/demo/", tracker.tracker_demo_view, name="tracker-demo"),
    path("tracker/test/<str:source_id>/", tracker.tracker_test_page_view, name="tracker-test"),
    path("tracker/widgets/<str:name>", tracker.tracker_widget_view, name="tracker-widget"),
    path("tracker/<str:name>", tracker.tracker_script_view, name="tracker-script"),
]
