"""What destinations add to the profile page: its deliveries, what was sent where and why
not. The profile admin (apps.profiles) renders `person_sections` that upper apps add; this
module re-registers it with the deliveries section (destinations come after profiles in
INSTALLED_APPS, so the profile admin has registered first)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.destinations.models import Delivery
from apps.profiles.admin.profiles import ProfileAdmin
from apps.profiles.models import Profile

RECENT_DELIVERIES = 20


def deliveries_section(profile_id: str) -> dict:
    deliveries = list(
        Delivery.objects.filter(profile_id=profile_id)
        .select_related("destination")
        .order_by("-updated")[:RECENT_DELIVERIES]
    )
    url = reverse("admin:destinations_delivery_changelist")
    return {
        "key": "deliveries",
        "title": "Deliveries (what was sent where)",
        "columns": ["updated", "destination", "status", "attempts", "why not / last error"],
        "rows": [
            (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:destinations_delivery_change", args=[delivery.pk]),
                    timezone.localtime(delivery.updated).strftime("%Y-%m-%d %H:%M"),
                ),
                delivery.destination.name
                + (" (removal)" if delivery.is_removal else "")
                + (" (test)" if delivery.is_test else ""),
                # The short word: the reason is in the next-but-one column.
                delivery.status.capitalize(),
                delivery.attempts,
                Truncator(delivery.last_error).chars(80) or "-",
            )
            for delivery in deliveries
        ],
        "empty": "Nothing was sent for this person.",
        "more_url": f"{url}?profile={profile_id}",
        "more_label": "All deliveries of this person",
    }


class ProfileWithDeliveriesAdmin(ProfileAdmin):
    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        sections = list(extra.get("person_sections", []))
        if request.user.has_perm("destinations.view_delivery"):
            sections.append(deliveries_section(unquote(object_id)))
        extra["person_sections"] = sections
        return super().change_view(request, object_id, form_url, extra_context=extra)


admin.site.unregister(Profile)
admin.site.register(Profile, ProfileWithDeliveriesAdmin)
