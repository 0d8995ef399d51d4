"""The profile page as "the person at a glance", and the profile actions that change who is who:
merge, undo a merge, forget, export. A mixin for apps.profiles.admin.profiles.ProfileAdmin.

- The change page adds identity, segments, traits, interests, consents and visits on top, and
  below: the latest sessions, a timeline of events (newest first, TIMELINE_PAGE_SIZE per page
  through `?timeline=<page>`), the workflow runs link, the consent history (latest
  CONSENT_HISTORY grants and revokes), the merge history with undo buttons and the segment
  history (admin/segment_history.py), first of the `person_sections`.
  Events and runs are read through their followers (apps.profiles.hooks) and linked by admin
  URL names: profiles imports neither app.
- `<id>/export/` answers the profile as JSON in Tracardi's shape (staff only).
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from apps.core.admin_helpers import admin_view_requiring
from apps.profiles.admin.entities import entities_section
from apps.profiles.admin.segment_history import segment_history_section
from apps.profiles.consents import consent_entry_valid, consent_time
from apps.profiles.documents import profile_document
from apps.profiles.models import ConsentChange, ErasureRecord, MergeRecord, Profile, Session
from apps.profiles.selectors import consent_type_names, profile_consent_history, profile_timeline
from apps.profiles.services.erasure import ProfileNotFound, erasure_counts_text
from apps.profiles.services.merge import MergeError, profiles_merge
from apps.profiles.services.merge_undo import merge_undo
from apps.profiles.tasks import profile_erasure_start

# Sections that upper apps add to the profile page (a registry they fill when their admin
# module loads; profiles imports none of them): provider(request, profile_id) -> section dict
# ({"key", "title", "columns", "rows", "empty", "note"?, "more_url"?, "more_label"?}) or None
# (e.g. without the permission to see it).
PersonSectionProvider = Callable[[HttpRequest, str], dict | None]
_section_providers: list[PersonSectionProvider] = []


def person_section_register(provider: PersonSectionProvider) -> None:
    if provider not in _section_providers:
        _section_providers.append(provider)


TIMELINE_PAGE_SIZE = 50
LATEST_SESSIONS = 20
MERGE_HISTORY = 50
CONSENT_HISTORY = 50
MERGE_MAX = 50
FORGET_MAX = 100


@admin.action(description="Merge the selected profiles (the most recently updated survives)")
def merge_profiles(modeladmin, request, queryset):
    if not request.user.has_perm("profiles.change_profile"):
        modeladmin.message_user(
            request, "Merging profiles needs the permission to change profiles.", messages.ERROR
        )
        return None
    ids = list(queryset.order_by("-updated").values_list("pk", flat=True)[: MERGE_MAX + 1])
    if not 2 <= len(ids) <= MERGE_MAX:
        modeladmin.message_user(
            request, f"Select between 2 and {MERGE_MAX} profiles to merge.", messages.ERROR
        )
        return None
    try:
        survivor = profiles_merge(
            profile_ids=ids, reason="Merged in the admin", actor=request.user.get_username()
        )
    except MergeError as error:
        modeladmin.message_user(request, str(error), messages.ERROR)
        return None
    modeladmin.message_user(
        request,
        f"{len(ids) - 1} profile(s) merged into {survivor.pk}; the merge can be undone from "
        "its page.",
        messages.SUCCESS,
    )
    return HttpResponseRedirect(reverse("admin:profiles_profile_change", args=[survivor.pk]))


@admin.action(description="Forget (erase) the selected profiles…")
def forget_profiles(modeladmin, request, queryset):
    if not request.user.has_perm("profiles.delete_profile"):
        modeladmin.message_user(
            request, "Erasing profiles needs the permission to delete profiles.", messages.ERROR
        )
        return None
    profiles = list(queryset.order_by("pk")[: FORGET_MAX + 1])
    if len(profiles) > FORGET_MAX:
        modeladmin.message_user(
            request, f"Select at most {FORGET_MAX} profiles to erase at once.", messages.ERROR
        )
        return None
    if request.POST.get("confirm") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Forget these people?",
            "opts": modeladmin.opts,
            "profiles": profiles,
            "action": "forget_profiles",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/profiles/profile/forget_confirmation.html", context)
    started = 0
    for profile in profiles:
        try:
            profile_erasure_start(profile_id=profile.pk, actor=request.user.get_username())
        except ProfileNotFound:
            continue  # erased meanwhile (e.g. merged into another selected profile)
        started += 1
    modeladmin.message_user(
        request,
        format_html(
            "{} erasure(s) started: the profiles, their sessions, events, runs and deliveries "
            "are deleted in the background, and their ids are never used again. "
            '<a href="{}">Follow their progress</a>.',
            started,
            reverse("admin:profiles_erasurerecord_changelist"),
        ),
        messages.SUCCESS,
    )
    return None


class ProfilePersonAdminMixin:
    change_form_template = "admin/profiles/profile/change_form.html"
    actions = (merge_profiles, forget_profiles)

    def get_urls(self):
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}"
        # Before the default urls: their "<path:object_id>/" would take these paths.
        return [
            path(
                "<path:object_id>/export/",
                admin_view_requiring(self, self.export_view, "view"),
                name=f"{name}_export",
            ),
            path(
                "<path:object_id>/merges/<str:merge_id>/undo/",
                admin_view_requiring(self, require_POST(self.undo_merge_view), "change"),
                name=f"{name}_undo_merge",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request, object_id):
        profile = self.get_object(request, unquote(object_id))
        if profile is None:
            raise Http404(f"No profile with id {object_id!r}.")
        if not self.has_view_permission(request, profile):
            raise PermissionDenied
        response = JsonResponse(profile_document(profile), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'inline; filename="profile-{profile.pk}.json"'
        return response

    def undo_merge_view(self, request, object_id, merge_id):
        if not request.user.has_perm("profiles.change_profile"):
            raise PermissionDenied
        record = get_object_or_404(MergeRecord, pk=merge_id)
        try:
            merge_undo(merge_id=record.pk, actor=request.user.get_username())
        except MergeError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(
                request,
                f"Merge undone: {', '.join(record.merged_ids)} separated from "
                f"{record.survivor_id} again, with their events and sessions.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse("admin:profiles_profile_change", args=[unquote(object_id)])
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        profile = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if profile is not None:
            extra.update(_person_context(request, profile))
            _erasure_notice(request, profile)
            registered = (provider(request, profile.pk) for provider in _section_providers)
            extra["person_sections"] = [
                segment_history_section(profile.pk),
                entities_section(profile.pk),
                *(section for section in registered if section is not None),
                *(extra_context or {}).get("person_sections", []),
            ]
        return super().change_view(request, object_id, form_url, extra_context=extra)


def _erasure_notice(request, profile: Profile) -> None:
    """A profile under a running erasure says so, with what is deleted so far."""
    record = ErasureRecord.objects.filter(
        status=ErasureRecord.Status.RUNNING, profile_ids__contains=[profile.pk]
    ).first()
    if record is None:
        return
    messages.warning(
        request,
        format_html(
            'This profile is being erased (<a href="{}">erasure {}</a>, started {}): {}.',
            reverse("admin:profiles_erasurerecord_change", args=[record.pk]),
            record.pk,
            f"{record.started_at:%Y-%m-%d %H:%M:%S}",
            erasure_counts_text(record) or "nothing deleted yet",
        ),
    )


def _person_context(request, profile: Profile) -> dict:
    page = _page_number(request.GET.get("timeline"))
    offset = (page - 1) * TIMELINE_PAGE_SIZE
    event_type = request.GET.get("timeline_type", "").strip()[:100]
    before_day = _day(request.GET.get("timeline_before"))
    before = (
        datetime.combine(before_day, time.min, tzinfo=timezone.get_current_timezone())
        + timedelta(days=1)
        if before_day
        else None
    )
    # One row more than shown tells whether an older page exists, without a COUNT.
    events = profile_timeline(
        profile_id=profile.pk,
        offset=offset,
        limit=TIMELINE_PAGE_SIZE + 1,
        event_type=event_type,
        before=before,
    )
    kept = urlencode(
        {
            key: value
            for key, value in (("timeline_type", event_type), ("timeline_before", before_day))
            if value
        }
    )
    sessions = list(
        Session.objects.filter(profile_id=profile.pk).order_by("-updated")[:LATEST_SESSIONS]
    )
    merges = list(
        MergeRecord.objects.filter(
            Q(survivor_id=profile.pk) | Q(merged_ids__overlap=[profile.pk, *profile.ids])
        )
        .order_by("-created")
        .defer("survivor_before", "merged_profiles", "repointed")[:MERGE_HISTORY]
    )
    data = profile.data or {}
    pii = data.get("pii") or {}
    visit = ((profile.metadata or {}).get("time") or {}).get("visit") or {}
    return {
        "person": {
            "name": " ".join(str(pii[key]) for key in ("firstname", "lastname") if pii.get(key)),
            "email": profile.email,
            "phone": ((data.get("contact") or {}).get("phone") or {}).get("main"),
            "ids": profile.ids,
            "segments": profile.segments,
            "traits": sorted((profile.traits or {}).items()),
            "interests": sorted(
                (profile.interests or {}).items(), key=lambda item: _number(item[1]), reverse=True
            ),
            "consents": _consents(profile),
            "visit": visit,
        },
        "consent_history": _consent_history(profile),
        "timeline_events": events[:TIMELINE_PAGE_SIZE],
        "timeline_type": event_type,
        "timeline_before": before_day.isoformat() if before_day else "",
        "timeline_filters": f"&{kept}" if kept else "",
        "timeline_page": page,
        "timeline_newer": page - 1 if page > 1 else None,
        "timeline_older": page + 1 if len(events) > TIMELINE_PAGE_SIZE else None,
        "latest_sessions": sessions,
        "merges": merges,
        "runs_url": _runs_url(profile.pk),
        "export_url": reverse("admin:profiles_profile_export", args=[profile.pk]),
    }


def _consents(profile: Profile) -> list[dict]:
    """The profile's consents as a person reads them: the type's name, the grant and revoke
    times as dates, and whether the consent holds now."""
    consents = profile.consents if isinstance(profile.consents, dict) else {}
    names = consent_type_names(list(consents))
    now = timezone.now()
    return [
        {
            "id": consent_id,
            "name": names.get(consent_id, ""),
            "granted": consent_time(entry.get("grant")) if isinstance(entry, dict) else None,
            "revoke": consent_time(entry.get("revoke")) if isinstance(entry, dict) else None,
            "valid": consent_entry_valid(entry, now),
        }
        for consent_id, entry in sorted(consents.items())
    ]


def _consent_history(profile: Profile) -> list[dict]:
    changes = profile_consent_history(profile_id=profile.pk, limit=CONSENT_HISTORY)
    names = consent_type_names(sorted({change.consent_type for change in changes}))
    return [
        {
            "change": change,
            "name": names.get(change.consent_type, ""),
            # Grants and revokes by an event (or its workflows) link to the event.
            "event_id": change.by
            if change.via in (ConsentChange.Via.EVENT, ConsentChange.Via.WORKFLOW)
            else "",
        }
        for change in changes
    ]


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _number(value) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def _runs_url(profile_id: str) -> str:
    """The workflow runs list narrowed to this profile."""
    url = reverse("admin:workflows_workflowrun_changelist")
    return f"{url}?{urlencode({'profile': profile_id})}"
