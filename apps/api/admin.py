"""API keys in the admin (System → API keys, for the Developer role): create one (its key is
shown once), see when each was last used, revoke."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from apps.api.keys import api_key_create, api_keys_revoke
from apps.api.models import ApiKey
from apps.api.scopes import SCOPE_CHOICES


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Write includes read. Give a key only what its job needs.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "expires_at")

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("Pick a time in the future, or leave it empty.")
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix_shown", "scopes_shown", "state", "last_used_at", "created")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    actions = ("revoke",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "name",
            "prefix_shown",
            "scopes_shown",
            "expires_at",
            "state",
            "last_used_at",
            "created_by",
            "created",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "scopes", "expires_at")
        return self.get_readonly_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # Keys are not edited: make a new one (and revoke the old) to change what a key may do.
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        key, plain = api_key_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
        )
        obj.__dict__.update({k: v for k, v in key.__dict__.items() if k != "_state"})
        obj._state.adding = False
        messages.warning(
            request,
            f"Copy this key now: it is not stored and will not be shown again: {plain}",
        )

    @admin.display(description="Key starts with")
    def prefix_shown(self, key: ApiKey) -> str:
        return f"cdp_{key.prefix}_…"

    @admin.display(description="Scopes")
    def scopes_shown(self, key: ApiKey) -> str:
        labels = dict(SCOPE_CHOICES)
        return ", ".join(labels.get(scope, scope) for scope in key.scopes)

    @admin.display(description="State")
    def state(self, key: ApiKey) -> str:
        if key.revoked_at:
            return f"Revoked {timezone.localtime(key.revoked_at):%Y-%m-%d %H:%M}"
        if key.expires_at and key.expires_at <= timezone.now():
            return f"Expired {timezone.localtime(key.expires_at):%Y-%m-%d %H:%M}"
        if key.expires_at:
            return f"Active until {timezone.localtime(key.expires_at):%Y-%m-%d %H:%M}"
        return "Active"

    # Revoking takes a key's rights away for good, as deleting would: the delete permission.
    @admin.action(description="Revoke the selected API keys", permissions=["delete"])
    def revoke(self, request, queryset):
        count = api_keys_revoke(key_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} API key(s) revoked; they stop working at once.")
