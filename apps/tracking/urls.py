from django.urls import path

from apps.tracking import views

urlpatterns = [
    path("track", views.TrackView.as_view(), name="track"),
    path("track/", views.TrackView.as_view()),
    path(
        "collect/<str:event_type>/<str:source_id>",
        views.CollectView.as_view(),
        name="collect",
    ),
    path(
        "collect/<str:event_type>/<str:source_id>/<str:session_id>",
        views.CollectView.as_view(),
        name="collect-session",
    ),
    path("redirect/<str:link_id>", views.RedirectView.as_view(), name="redirect"),
    path(
        "redirect/<str:link_id>/<str:session_id>",
        views.RedirectView.as_view(),
        name="redirect-session",
    ),
]
