"""Pieces shared by the apps' ModelAdmins: readable JSON, links between objects, filters for
large tables."""

import json
from collections.abc import Callable
from functools import update_wrapper
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import JsonResponse
from django.urls import reverse
from django.utils.html import format_html

from apps.core.changelist import KeepFiltersChangeList
from apps.core.paginator import LargeTablePaginator


def pretty_json(value: Any) -> str:
    """A JSON value as an indented, escaped <pre> block for a readonly admin field."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="cdp-json">{}</pre>', text)


def json_display(field_name: str, description: str | None = None):
    """A readonly-field method showing a model's JSON field indented: `traits_json =
    json_display("traits")` in a ModelAdmin, then "traits_json" in readonly_fields."""

    @admin.display(description=description or field_name)
    def display(model_admin, obj) -> str:
        return pretty_json(getattr(obj, field_name))

    return display


class PrettyJSONFormField(forms.JSONField):
    """An editable JSON field shown indented, so nested config is readable before editing."""

    widget = forms.Textarea(attrs={"rows": 12, "cols": 80, "class": "vLargeTextField cdp-json"})

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        if value is None:
            # Empty, not "null": an empty box saves a nullable field as null again.
            return ""
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


PRETTY_JSON_OVERRIDES = {models.JSONField: {"form_class": PrettyJSONFormField}}


def change_link(obj: models.Model | None, label: str | None = None) -> str:
    if obj is None:
        return "-"
    return object_link(type(obj), obj.pk, label or str(obj))


def object_link(model: type[models.Model], pk: Any, label: str | None = None) -> str:
    """A link to an object's admin page from its pk alone, so list pages need no join."""
    if pk is None:
        return "-"
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    return format_html('<a href="{}" title="{}">{}</a>', url, pk, label or short_id(pk))


def short_id(value: Any, length: int = 13) -> str:
    """A long id cut for list columns (the full id is in the link's title)."""
    text = str(value)
    return text if len(text) <= length else f"{text[: length - 1]}…"


def changelist_url(model: type[models.Model], **params: Any) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def changelist_link(model: type[models.Model], label: str, **params: Any) -> str:
    return format_html('<a href="{}">{}</a>', changelist_url(model, **params), label)


def related_id_filter(field_name: str, title: str) -> type[admin.SimpleListFilter]:
    """A filter on one related object's id (`?<field_name>=<id>`), set by links from other
    admin pages. It lists no choices (the related table is too large to list) and shows the
    id it filters on, so the page says what it is narrowed to."""

    class RelatedIdFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            value = self.value()
            return [(value, value)] if value else []

        def queryset(self, request, queryset):
            value = self.value()
            if not value:
                return queryset
            return queryset.filter(**{f"{field_name}_id": value})

    RelatedIdFilter.title = title
    RelatedIdFilter.__name__ = f"{field_name.title()}IdFilter"
    return RelatedIdFilter


class LargeTableAdminMixin:
    """For tables that grow without bound: no COUNT(*) over the table on the list page, and no
    per-choice counts in the filters (facets count every choice over the table)."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        # A page number past the end shows the last page, filters kept (not Django's `?e=1`).
        return KeepFiltersChangeList


class ReadOnlyAdminMixin:
    """Rows written by the tracking pipeline: viewable in the admin, never edited there."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# What a custom admin view may need of its model: one of its model permissions.
ADMIN_ACTIONS = ("view", "add", "change", "delete")


def admin_view_requiring(
    model_admin: admin.ModelAdmin, view: Callable, action: str, *, answer_json: bool = False
) -> Callable:
    """A custom admin view (from get_urls) that answers 403 unless the user holds the model's
    `action` permission (view: view or change), whatever the ModelAdmin's own pages allow
    (many are read-only by design): staff status alone is not enough, each role reaches only
    what its row of apps.core.roles gives it.

    The refusal is {"detail": ...} JSON for views that answer JSON (`answer_json`, or a JSON
    request), the admin's 403 page otherwise. The needed permission is kept on the view
    (`required_permission`: (app label, model name, action)) so that the roles test can check
    every custom URL against the roles table."""
    if action not in ADMIN_ACTIONS:
        raise ValueError(f"action must be one of {ADMIN_ACTIONS}, not {action!r}")
    opts = model_admin.model._meta
    accepted = {f"{opts.app_label}.{action}_{opts.model_name}"}
    if action == "view":
        accepted.add(f"{opts.app_label}.change_{opts.model_name}")
    refusal = f"You may not {action} {opts.verbose_name_plural}: ask for the permission to."

    def guarded(request, *args, **kwargs):
        if not any(request.user.has_perm(permission) for permission in accepted):
            if answer_json or request.content_type == "application/json":
                return JsonResponse({"detail": refusal}, status=403)
            raise PermissionDenied(refusal)
        return view(request, *args, **kwargs)

    update_wrapper(guarded, view)
    wrapped = model_admin.admin_site.admin_view(guarded)
    wrapped.required_permission = (opts.app_label, opts.model_name, action)
    return wrapped
