"""Admin for consent types: the consents a consent bar offers and what a grant of each means
(revokable, required, auto-revoke). Imported by apps.profiles.admin."""

import re

from django import forms
from django.contrib import admin

from apps.profiles.models import ConsentType

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")


class ConsentTypeForm(forms.ModelForm):
    # A plain text field: clean_id says what a good id looks like (the slug field's own
    # message would not).
    id = forms.CharField(
        label="Id",
        max_length=64,
        help_text=ConsentType._meta.get_field("id").help_text,
    )

    class Meta:
        model = ConsentType
        fields = (
            "id",
            "name",
            "description",
            "enabled",
            "required",
            "revokable",
            "default_granted",
            "auto_revoke_days",
        )
        labels = {"auto_revoke_days": "Auto-revoke after (days)"}

    def clean_id(self) -> str:
        """The id profiles, the consent bar and workflows name the consent by; it cannot
        change once saved (the admin shows it read-only then)."""
        consent_id = (self.cleaned_data.get("id") or "").strip()
        if not ID_PATTERN.fullmatch(consent_id):
            raise forms.ValidationError(
                f"'{consent_id}' cannot be an id: use lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit, e.g. marketing or cookies-statistics."
            )
        existing = ConsentType.objects.filter(pk=consent_id).first()
        if existing is not None:
            raise forms.ValidationError(
                f"The consent type '{existing.name}' has the id '{consent_id}' already; "
                "choose another id, or edit that type."
            )
        return consent_id

    def clean_auto_revoke_days(self) -> int | None:
        days = self.cleaned_data.get("auto_revoke_days")
        if days == 0:
            raise forms.ValidationError(
                "0 days would revoke every grant at once; leave it empty to never revoke."
            )
        return days


@admin.register(ConsentType)
class ConsentTypeAdmin(admin.ModelAdmin):
    form = ConsentTypeForm
    list_display = (
        "name",
        "id",
        "enabled",
        "required",
        "revokable",
        "auto_revoke",
    )
    list_display_links = ("name",)
    list_filter = ("enabled", "required", "revokable")
    search_fields = ("name", "id", "description")
    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("id", "name", "description", "enabled")}),
        (
            "What a grant means",
            {
                "fields": ("required", "revokable", "default_granted", "auto_revoke_days"),
                "description": "Visitors grant and revoke consents through the consent bar "
                "(a consent-given event); workflows can check them (Has consent), and rules and "
                "destinations can require one.",
            },
        ),
    )

    @admin.display(description="auto-revoke", ordering="auto_revoke_days")
    def auto_revoke(self, consent_type: ConsentType) -> str:
        days = consent_type.auto_revoke_days
        if not days:
            return "never"
        return f"after {days} day{'s' if days != 1 else ''}"

    def get_readonly_fields(self, request, obj=None):
        # The id is what profiles carry: renaming it would orphan every stored grant.
        return ("id",) if obj is not None else ()
