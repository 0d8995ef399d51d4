"""Admin forms: a workflow's details, rules, test-run input."""

from __future__ import annotations

import json

from django import forms

from apps.core.text import normalise_event_type
from apps.workflows.models import Rule, Workflow

SAMPLE_EVENT = {
    "type": "purchase",
    "properties": {"plan": "pro", "price": 49.0},
    "context": {"page": {"url": "https://shop.example.com/checkout?utm_source=mail"}},
    "request": {"headers": {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}},
}


class WorkflowForm(forms.ModelForm):
    """Name, description and switch; the graph is edited on the canvas (the editor)."""

    class Meta:
        model = Workflow
        fields = ("name", "description", "enabled")


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ("name", "description", "event_type", "source", "workflow", "enabled")

    def clean_event_type(self):
        event_type = normalise_event_type(self.cleaned_data["event_type"])
        if not event_type:
            raise forms.ValidationError("Write the event type, e.g. page-view.")
        return event_type


class TestRunForm(forms.Form):
    event_id = forms.CharField(
        required=False,
        label="Stored event id",
        help_text="Run on this stored event, with its profile and session as they are now.",
    )
    sample = forms.CharField(
        required=False,
        label="Or a sample event (JSON)",
        widget=forms.Textarea(attrs={"rows": 12, "cols": 90, "class": "vLargeTextField"}),
        initial=json.dumps(SAMPLE_EVENT, indent=2),
        help_text=(
            "Fields as stored on an event: type (required), properties, context, request, "
            "traits, tags, time; profile_id / session_id name stored ones (without a profile "
            "the run gets a new, empty one)."
        ),
    )
    profile_less = forms.BooleanField(required=False, label="Run without a profile")

    def clean(self):
        cleaned = super().clean()
        event_id = (cleaned.get("event_id") or "").strip()
        sample_text = (cleaned.get("sample") or "").strip()
        if event_id:
            cleaned["sample_event"] = None
            return cleaned
        if not sample_text:
            raise forms.ValidationError("Give a stored event id or write a sample event.")
        try:
            cleaned["sample_event"] = json.loads(sample_text)
        except ValueError as exc:
            self.add_error("sample", f"This is not valid JSON: {exc}")
        return cleaned
