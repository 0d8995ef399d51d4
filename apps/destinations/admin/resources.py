"""Resources: credentials are never shown in clear. The page shows them masked, and write-only
fields made from the resource type's schema replace them one by one (a field left empty keeps
its stored value)."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from apps.core.admin_helpers import (
    pretty_json,
)
from apps.core.schema_forms import (
    SchemaField,
    document_from,
    schema_errors_to_fields,
    schema_fields,
)
from apps.destinations.models import Resource
from apps.destinations.senders import RESOURCE_TYPES, resource_plugins_ensure

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


# The credentials of each resource type as write-only form fields (apps.core.schema_forms); the
# page shows those of the selected type (static/destinations/type_fields.js). Kept in step with
# the registry by credential_fields(): plugins add resource types at start.
CREDENTIAL_FIELDS: dict[str, list[SchemaField]] = {}


class ResourceForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = ("name", "type", "description")

    class Media:
        js = ("destinations/type_fields.js",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "type" in self.fields:
            self.fields["type"].widget.attrs["data-type-fields"] = "credentials"

    def clean(self) -> dict:
        cleaned = super().clean()
        resource_type = cleaned.get("type")
        if resource_type in CREDENTIAL_FIELDS:
            try:
                typed = document_from(cleaned, CREDENTIAL_FIELDS[resource_type])
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    self.add_error(name, messages)
                return cleaned
            # Write-only: what is left empty keeps its stored value (of the same type).
            stored = self.instance.credentials if self.instance.type == resource_type else {}
            # Validated with the type by Resource.clean() in _post_clean.
            self.instance.credentials = _filled_in(
                stored or {}, typed, CREDENTIAL_FIELDS[resource_type]
            )
        return cleaned

    def _update_errors(self, errors: Any) -> None:
        # Resource.clean() reports on `credentials`, edited here field by field.
        schema_errors_to_fields(
            errors,
            document="credentials",
            prefix=f"credentials__{self.cleaned_data.get('type')}",
            field_names=self.fields,
        )
        super()._update_errors(errors)


def _filled_in(stored: dict, typed: dict, fields: list[SchemaField]) -> dict:
    """The stored credentials with each field that was filled in replaced (a header list is
    one field: it replaces the stored headers whole)."""
    credentials = copy.deepcopy(stored)
    for item in fields:
        value: Any = typed
        for key in item.path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            continue
        node = credentials
        for key in item.path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[item.path[-1]] = value
    return credentials


def credential_fields() -> dict[str, list[SchemaField]]:
    """CREDENTIAL_FIELDS for the resource types registered now, declared on ResourceForm (the
    admin builds its form from the declared fields its fieldsets name)."""
    resource_plugins_ensure()
    if list(CREDENTIAL_FIELDS) == list(RESOURCE_TYPES):
        return CREDENTIAL_FIELDS
    for fields in CREDENTIAL_FIELDS.values():
        for item in fields:
            del ResourceForm.base_fields[item.name], ResourceForm.declared_fields[item.name]
    CREDENTIAL_FIELDS.clear()
    for resource_type, known in RESOURCE_TYPES.items():
        fields = schema_fields(
            known.credentials_schema, prefix=f"credentials__{resource_type}", secret=True
        )
        CREDENTIAL_FIELDS[resource_type] = fields
        for item in fields:
            ResourceForm.base_fields[item.name] = item.field
            ResourceForm.declared_fields[item.name] = item.field
    return CREDENTIAL_FIELDS


credential_fields()


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    form = ResourceForm
    list_display = ("name", "type", "credential_keys", "updated")
    list_filter = ("type",)
    search_fields = ("name",)
    readonly_fields = ("credentials_masked",)

    def get_fieldsets(self, request, obj=None):
        return (
            (None, {"fields": ("name", "type", "description")}),
            (
                "Credentials",
                {
                    "fields": (
                        "credentials_masked",
                        *(item.name for fields in credential_fields().values() for item in fields),
                    ),
                    "description": "Write-only: stored credentials are never shown. Fill in a "
                    "field to replace its value; leave it empty to keep the stored one.",
                },
            ),
        )

    @admin.display(description="credentials")
    def credential_keys(self, resource: Resource) -> str:
        return ", ".join(sorted(resource.credentials)) or "-"

    @admin.display(description="Stored credentials (masked)")
    def credentials_masked(self, resource: Resource) -> str:
        if resource.pk is None:
            return "-"
        return pretty_json(masked(resource.credentials))
