"""Form widgets shared by the apps' admin forms.

`ConditionBuilderWidget` is the textarea of a logic-notation condition with a builder next to it
(static/core/condition-builder.js): rows of field, operator and value in AND/OR groups. The
textarea stays the field's value and stays editable; the builder rewrites it, and text typed in
it is read back into the builder through the check endpoint, which also reports the notation's
error and column as the user types.

It lives in core (the lowest floor) because segments (profiles), destinations and event type
mappings (events) all use it. It imports no domain app: the endpoints it calls are admin views
of apps.events (the lowest floor that sees both profiles and events) named by URL only.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

FIELDS_URL_NAME = "admin:events_eventtype_condition_fields"
CHECK_URL_NAME = "admin:events_eventtype_condition_check"


class ConditionBuilderWidget(forms.Textarea):
    """A condition textarea with the condition builder.

    `sources`: the notation sources the condition reads, the first being the default for a path
    typed without one (`("profile",)` for segments, `("event", "profile")` for mappings).
    `event_type_input`: the id of an input on the page holding the event type, whose recent
    events' paths are suggested (the event type page's `id_type`).
    `compact`: the builder opens in a panel from a button (for table rows) instead of showing
    above the textarea.
    """

    def __init__(
        self,
        *,
        sources: Sequence[str] = ("profile",),
        event_type_input: str = "",
        compact: bool = False,
        attrs: dict | None = None,
    ) -> None:
        defaults = {"rows": 2 if compact else 3, "cols": 30 if compact else 80}
        super().__init__(attrs={**defaults, **(attrs or {})})
        self.sources = tuple(sources)
        self.event_type_input = event_type_input
        self.compact = compact

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            css={"all": ["core/condition-builder.css"]},
            js=[forms.Script("core/condition-builder.js", type="module")],
        )

    def render(self, name, value, attrs=None, renderer=None) -> str:
        attrs = {**(attrs or {}), "class": _join_classes(self.attrs, attrs, "cdp-cond-text")}
        attrs.setdefault("spellcheck", "false")
        textarea = super().render(name, value, attrs, renderer)
        return format_html(
            '<div class="cdp-cond{}" data-fields-url="{}" data-check-url="{}" '
            'data-sources="{}" data-event-type-input="{}">{}</div>',
            " cdp-cond-compact" if self.compact else "",
            _url(FIELDS_URL_NAME),
            _url(CHECK_URL_NAME),
            ",".join(self.sources),
            self.event_type_input,
            textarea,
        )


def _join_classes(widget_attrs: dict, attrs: dict, extra: str) -> str:
    classes = f"{widget_attrs.get('class', '')} {attrs.get('class', '')} {extra}"
    return " ".join(dict.fromkeys(classes.split()))


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:  # pragma: no cover - a project without the events admin
        return ""


class ConditionBuilderAdminMixin:
    """For a ModelAdmin or an inline: `condition_builder_fields = {"condition":
    ConditionBuilderWidget(sources=("profile",))}` puts the builder on those model fields (the
    model's clean() stays what validates them)."""

    condition_builder_fields: dict[str, ConditionBuilderWidget] = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        widget = self.condition_builder_fields.get(db_field.name)
        if widget is not None:
            kwargs["widget"] = widget
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class MappingTableWidget(forms.Textarea):
    """An object template (a destination's mapping) as a table: one row per field sent,
    "field ← value", where the value is a reference (`profile@data.contact.email.main`) or a
    constant (static/core/mapping-table.js). The JSON textarea stays the field's value: it is shown
    instead of the table for a mapping with nested objects or lists, and "Edit as JSON" shows
    it on demand. `preview_url`: a POST endpoint answering {"payload": ...} or {"error": ...}
    for {"mapping": ..., "profile_id": ...}, for a "Preview on a profile" button."""

    def __init__(self, *, preview_url_name: str = "", attrs: dict | None = None) -> None:
        super().__init__(attrs={"rows": 6, "cols": 80, **(attrs or {})})
        self.preview_url_name = preview_url_name

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            css={"all": ["core/mapping-table.css"]},
            js=[forms.Script("core/mapping-table.js", type="module")],
        )

    def render(self, name, value, attrs=None, renderer=None) -> str:
        attrs = {**(attrs or {}), "class": _join_classes(self.attrs, attrs, "cdp-map-json")}
        textarea = super().render(name, value, attrs, renderer)
        preview = _url(self.preview_url_name) if self.preview_url_name else ""
        return format_html('<div class="cdp-map" data-preview-url="{}">{}</div>', preview, textarea)


class SchemaTableWidget(forms.Textarea):
    """An event type's JSON schema as a table of its properties: name, type, required
    (static/core/schema-table.js). "Generate from recent events" fills it from the answer of
    `suggest_url_name` (`?type=` the value of the `type_input` element). The JSON textarea
    stays the field's value; a schema the table cannot show (nested objects, formats, enums...)
    is edited as JSON, and "Edit as JSON" shows it on demand."""

    def __init__(
        self, *, suggest_url_name: str = "", type_input: str = "", attrs: dict | None = None
    ) -> None:
        super().__init__(attrs={"rows": 8, "cols": 80, **(attrs or {})})
        self.suggest_url_name = suggest_url_name
        self.type_input = type_input

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            css={"all": ["core/schema-table.css"]},
            js=[forms.Script("core/schema-table.js", type="module")],
        )

    def render(self, name, value, attrs=None, renderer=None) -> str:
        attrs = {**(attrs or {}), "class": _join_classes(self.attrs, attrs, "cdp-schema-json")}
        textarea = super().render(name, value, attrs, renderer)
        suggest = _url(self.suggest_url_name) if self.suggest_url_name else ""
        return format_html(
            '<div class="cdp-schema" data-suggest-url="{}" data-type-input="{}">{}</div>',
            suggest,
            self.type_input,
            textarea,
        )
