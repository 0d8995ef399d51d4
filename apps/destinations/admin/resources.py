"""Resources: credentials are never shown in clear. The page shows them masked, and write-only
fields made from the resource type's schema replace them one by one (a field left empty keeps
its stored value). Each resource has production and (optional) test credentials, the latter
used by workflow test runs; "Test connection" makes the vendor's cheap call with either."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin_helpers import (
    admin_view_requiring,
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
from apps.destinations.services import resource_connection_test

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
TEST_CREDENTIAL_FIELDS: dict[str, list[SchemaField]] = {}


class ResourceForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = ("name", "type", "description")

    class Media:
        js = ("destinations/type_fields.js",)

    clear_test_credentials = forms.BooleanField(
        required=False,
        label="Remove the test credentials",
        help_text="Test runs then use the production credentials.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "type" in self.fields:
            self.fields["type"].widget.attrs["data-type-fields"] = "credentials test_credentials"

    def clean(self) -> dict:
        cleaned = super().clean()
        resource_type = cleaned.get("type")
        if resource_type not in CREDENTIAL_FIELDS:
            return cleaned
        same_type = self.instance.type == resource_type
        for document, fields in (
            ("credentials", CREDENTIAL_FIELDS),
            ("test_credentials", TEST_CREDENTIAL_FIELDS),
        ):
            try:
                typed = document_from(cleaned, fields[resource_type])
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    self.add_error(name, problems)
                continue
            # Write-only: what is left empty keeps its stored value (of the same type).
            stored = getattr(self.instance, document) if same_type else {}
            # Validated with the type by Resource.clean() in _post_clean.
            setattr(self.instance, document, _filled_in(stored or {}, typed, fields[resource_type]))
        if cleaned.get("clear_test_credentials"):
            self.instance.test_credentials = {}
        return cleaned

    def _update_errors(self, errors: Any) -> None:
        # Resource.clean() reports on `credentials` and `test_credentials`, edited here field
        # by field.
        for document in ("credentials", "test_credentials"):
            schema_errors_to_fields(
                errors,
                document=document,
                prefix=f"{document}__{self.cleaned_data.get('type')}",
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


def credential_fields() -> tuple[dict[str, list[SchemaField]], dict[str, list[SchemaField]]]:
    """CREDENTIAL_FIELDS and TEST_CREDENTIAL_FIELDS for the resource types registered now,
    declared on ResourceForm (the admin builds its form from the declared fields its fieldsets
    name)."""
    resource_plugins_ensure()
    if list(CREDENTIAL_FIELDS) == list(RESOURCE_TYPES):
        return CREDENTIAL_FIELDS, TEST_CREDENTIAL_FIELDS
    for fields in (*CREDENTIAL_FIELDS.values(), *TEST_CREDENTIAL_FIELDS.values()):
        for item in fields:
            del ResourceForm.base_fields[item.name], ResourceForm.declared_fields[item.name]
    CREDENTIAL_FIELDS.clear()
    TEST_CREDENTIAL_FIELDS.clear()
    for resource_type, known in RESOURCE_TYPES.items():
        for document, registry in (
            ("credentials", CREDENTIAL_FIELDS),
            ("test_credentials", TEST_CREDENTIAL_FIELDS),
        ):
            fields = schema_fields(
                known.credentials_schema, prefix=f"{document}__{resource_type}", secret=True
            )
            if document == "test_credentials":
                # Test credentials are optional as a whole: "Required." holds only once some
                # are given.
                for item in fields:
                    item.field.help_text = item.field.help_text.replace(
                        "Required.", "Required if test credentials are given."
                    )
            registry[resource_type] = fields
            for item in fields:
                ResourceForm.base_fields[item.name] = item.field
                ResourceForm.declared_fields[item.name] = item.field
    return CREDENTIAL_FIELDS, TEST_CREDENTIAL_FIELDS


credential_fields()


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    form = ResourceForm
    list_display = ("name", "type", "credential_keys", "updated")
    list_filter = ("type",)
    search_fields = ("name",)
    readonly_fields = ("credentials_masked", "test_credentials_masked", "connection_test")

    def get_fieldsets(self, request, obj=None):
        production, test = credential_fields()
        return (
            (None, {"fields": ("name", "type", "description")}),
            (
                "Credentials",
                {
                    "fields": (
                        "credentials_masked",
                        *(item.name for fields in production.values() for item in fields),
                    ),
                    "description": "Write-only: stored credentials are never shown. Fill in a "
                    "field to replace its value; leave it empty to keep the stored one.",
                },
            ),
            (
                "Test credentials",
                {
                    "fields": (
                        "test_credentials_masked",
                        *(item.name for fields in test.values() for item in fields),
                        "clear_test_credentials",
                    ),
                    "description": "Optional, write-only: a sandbox account or test channel "
                    "that workflow test runs use instead of the production credentials. Empty: "
                    "test runs use the production credentials.",
                },
            ),
            ("Connection", {"fields": ("connection_test",)}),
        )

    @admin.display(description="credentials")
    def credential_keys(self, resource: Resource) -> str:
        return ", ".join(sorted(resource.credentials)) or "-"

    @admin.display(description="Stored credentials (masked)")
    def credentials_masked(self, resource: Resource) -> str:
        if resource.pk is None:
            return "-"
        return pretty_json(masked(resource.credentials))

    @admin.display(description="Stored test credentials (masked)")
    def test_credentials_masked(self, resource: Resource) -> str:
        if resource.pk is None or not resource.test_credentials:
            return "-"
        return pretty_json(masked(resource.test_credentials))

    @admin.display(description="Test connection")
    def connection_test(self, resource: Resource) -> str:
        kind = RESOURCE_TYPES.get(resource.type)
        if resource.pk is None:
            return "Save the resource first."
        if kind is None or kind.check is None:
            return "This type of resource has no call to test a connection with."
        url = reverse("admin:destinations_resource_connection_test", args=[resource.pk])
        # Buttons of the change form that post it to the test view instead (its CSRF token
        # goes along); the view reads nothing else from it.
        return format_html(
            '<button type="submit" class="button" formaction="{}" formmethod="post" '
            'data-testid="connection-test">Test connection</button> '
            '<button type="submit" class="button" formaction="{}?test=1" formmethod="post" '
            'data-testid="connection-test-test" {}>Test connection (test credentials)</button>'
            '<div class="help">Makes one read-only call to the vendor with the stored '
            "credentials (save changes first).</div>",
            url,
            url,
            "" if resource.test_credentials else "disabled",
        )

    def get_urls(self):
        # A call with the stored credentials: for those who may change the resource.
        view = admin_view_requiring(self, self.connection_test_view, "change")
        return [
            path(
                "<path:object_id>/connection-test/",
                view,
                name="destinations_resource_connection_test",
            ),
            *super().get_urls(),
        ]

    def connection_test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        resource = get_object_or_404(Resource, pk=object_id)
        if not self.has_change_permission(request, resource):
            raise PermissionDenied
        outcome = resource_connection_test(resource=resource, test=request.GET.get("test") == "1")
        self.message_user(
            request, outcome.message, messages.SUCCESS if outcome.ok else messages.ERROR
        )
        return HttpResponseRedirect(
            reverse("admin:destinations_resource_change", args=[resource.pk])
        )
