"""The condition builder widget (apps.core.widgets) as a form renders it."""

from django import forms

from apps.core.widgets import ConditionBuilderWidget


class ConditionForm(forms.Form):
    condition = forms.CharField(
        required=False, widget=ConditionBuilderWidget(sources=("profile", "event"))
    )


def test_the_widget_wraps_the_textarea_with_its_endpoints_and_sources():
    form = ConditionForm(initial={"condition": "profile@a = 'x' AND profile@b < 2"})

    html = str(form["condition"])

    assert html == (
        '<div class="cdp-cond" data-fields-url="/admin/events/eventtype/condition-fields/" '
        'data-check-url="/admin/events/eventtype/condition-check/" data-sources="profile,event" '
        'data-event-type-input=""><textarea name="condition" cols="80" rows="3" '
        'id="id_condition" class="cdp-cond-text" spellcheck="false">\n'
        "profile@a = &#x27;x&#x27; AND profile@b &lt; 2</textarea></div>"
    )


def test_the_widget_brings_its_module_and_styles():
    media = str(ConditionForm().media)

    assert media == (
        '<link href="/static/core/condition-builder.css" media="all" rel="stylesheet">\n'
        '<script src="/static/core/condition-builder.js" type="module"></script>'
    )
