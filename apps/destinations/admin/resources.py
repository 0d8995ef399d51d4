"""Resources: credentials are never shown in clear. The page shows them masked, and a
write-only field replaces them (left empty, the stored ones are kept)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from apps.core.admin_helpers import (
    pretty_json,
)
from apps.destinations.models import Resource
from apps.destinations.senders import SENDERS

MASK = "••••••"


def masked(value: Any) -> Any:
    """The shape of the credentials with every string replaced by a mask."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return MASK
    return value


# ------------------------------------------------------------------------------ resources


class WriteOnlyTextarea(forms.Textarea):
    """Renders empty whatever the value: a secret never goes back into the page, not even the
    one just typed into a form that is shown again with an error."""

    def format_value(self, value: Any) -> None:
        return None


class ResourceForm(forms.ModelForm):
    new_credentials = forms.JSONField(
        required=False,
        label="Credentials",
        widget=WriteOnlyTextarea(attrs={"rows": 6, "cols": 80, "class": "vLargeTextField"}),
        help_text="Write-only: the stored credentials are never shown. Enter a JSON object to "
        "replace them; leave empty to keep them.",
    )

    class Meta:
        model = Resource
        fields = ("name", "type", "description")

    def clean(self) -> dict:
        cleaned = super().clean()
        new = cleaned.get("new_credentials")
        if new not in (None, ""):
            # Validated with the type by Resource.clean() in _post_clean.
            self.instance.credentials = new
        return cleaned

    def _update_errors(self, errors: Any) -> None:
        # Resource.clean() reports on `credentials`, which this form edits as new_credentials.
        if hasattr(errors, "error_dict") and "credentials" in errors.error_dict:
            messages = errors.error_dict.pop("credentials")
            errors.error_dict.setdefault("new_credentials", []).extend(messages)
        super()._update_errors(errors)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    form = ResourceForm
    list_display = ("name", "type", "credential_keys", "updated")
    list_filter = ("type",)
    search_fields = ("name",)
    readonly_fields = ("credentials_masked", "credentials_shape")
    fields = (
        "name",
        "type",
        "description",
        "credentials_masked",
        "new_credentials",
        "credentials_shape",
    )

    @admin.display(description="credentials")
    def credential_keys(self, resource: Resource) -> str:
        return ", ".join(sorted(resource.credentials)) or "-"

    @admin.display(description="Stored credentials (masked)")
    def credentials_masked(self, resource: Resource) -> str:
        if resource.pk is None:
            return "-"
        return pretty_json(masked(resource.credentials))

    @admin.display(description="Expected shape per type")
    def credentials_shape(self, resource: Resource) -> str:
        schemas = {name: sender.credentials_schema for name, sender in SENDERS.items()}
        return pretty_json(schemas)
