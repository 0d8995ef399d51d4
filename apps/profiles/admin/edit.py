"""Editing a profile by hand in the admin: `<id>/edit/`, a mixin for ProfileAdmin.

The change page stays read-only; this page is the one way the admin changes a profile, and it
saves through `profile_edit`, so every edit is stamped in metadata.fields and followed by
`profile_changed` (live segments, destination syncs) like any other writer.

Only the objects the person actually changed are sent: each field carries its value as the
form showed it (`show_hidden_initial`), so a change the tracking pipeline made meanwhile to
another object (e.g. interests while traits were being edited) is not overwritten.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.core.admin_helpers import PrettyJSONFormField, admin_view_requiring
from apps.profiles.models import Profile
from apps.profiles.services.writes import profile_edit

EDITABLE_JSON_FIELDS = ("traits", "interests", "consents", "aux", "data")
CHANGE_PERMISSION = "profiles.change_profile"


class JSONObjectField(PrettyJSONFormField):
    """A JSON object ({...}), shown indented; `{}` for an empty one."""

    default_error_messages = {
        "required": "Enter a JSON object; {} for an empty one.",
        "not_object": "Enter a JSON object ({...}), not a %(kind)s.",
    }

    def validate(self, value):
        super().validate(value)
        if not isinstance(value, dict):
            raise ValidationError(
                self.error_messages["not_object"],
                code="not_object",
                params={"kind": type(value).__name__},
            )


class ProfileEditForm(forms.Form):
    active = forms.BooleanField(
        required=False,
        show_hidden_initial=True,
        help_text="An inactive profile is kept but not treated as a current visitor.",
    )
    traits = JSONObjectField(show_hidden_initial=True)
    interests = JSONObjectField(show_hidden_initial=True)
    consents = JSONObjectField(show_hidden_initial=True)
    aux = JSONObjectField(show_hidden_initial=True)
    data = JSONObjectField(show_hidden_initial=True)

    @classmethod
    def initial_of(cls, profile: Profile) -> dict:
        return {
            "active": profile.active,
            **{name: getattr(profile, name) or {} for name in EDITABLE_JSON_FIELDS},
        }

    def changes(self) -> dict:
        """The cleaned values of the fields the person changed."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class ProfileEditAdminMixin:
    def get_urls(self):
        opts = self.opts
        # Before the default urls: their "<path:object_id>/" would take this path.
        return [
            path(
                "<path:object_id>/edit/",
                admin_view_requiring(self, self.edit_view, "change"),
                name=f"{opts.app_label}_{opts.model_name}_edit",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        if request.user.has_perm(CHANGE_PERMISSION):
            extra["edit_url"] = reverse("admin:profiles_profile_edit", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def edit_view(self, request, object_id):
        # Not has_change_permission: the admin's own change form is read-only by design.
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        profile = self.get_object(request, unquote(object_id))
        if profile is None:
            raise Http404(f"No profile with id {object_id!r}.")
        initial = ProfileEditForm.initial_of(profile)
        form = ProfileEditForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                changed = profile_edit(
                    profile_id=profile.pk,
                    changes=form.changes(),
                    actor=request.user.get_username(),
                )
            except Profile.DoesNotExist as error:
                raise Http404(str(error)) from None
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self._edited(request, profile, changed)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Edit profile {profile.pk}",
            "opts": self.opts,
            "original": profile,
            "form": form,
            "change_url": reverse("admin:profiles_profile_change", args=[profile.pk]),
        }
        return TemplateResponse(request, "admin/profiles/profile/edit.html", context)

    def _edited(self, request, profile: Profile, changed: list[str]) -> HttpResponseRedirect:
        if changed:
            summary = f"Changed {', '.join(sorted(changed))}."
            self.log_change(request, profile, summary)
            self.message_user(request, summary, messages.SUCCESS)
        else:
            self.message_user(request, "Nothing changed.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:profiles_profile_change", args=[profile.pk]))
