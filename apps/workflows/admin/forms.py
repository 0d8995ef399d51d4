"""Admin forms: the workflow graph edited as JSON, checked node by node; test-run input."""

from __future__ import annotations

import json

from django import forms

from apps.core.admin_helpers import PrettyJSONFormField
from apps.core.text import normalise_event_type
from apps.workflows.graph import graph_problems
from apps.workflows.models import Rule, Workflow

SAMPLE_EVENT = {
    "type": "purchase",
    "properties": {"plan": "pro", "price": 49.0},
    "context": {"page": {"url": "https://shop.example.com/checkout?utm_source=mail"}},
    "request": {"headers": {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}},
}


class WorkflowForm(forms.ModelForm):
    graph = PrettyJSONFormField(
        help_text=(
            'Tracardi\'s export shape: {"nodes": [...], "edges": [...]}. Each node names its '
            "action in data.spec (className, module) and holds its config in data.spec.init; "
            "the action catalogue lists them with a node snippet to copy."
        ),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}),
    )

    class Meta:
        model = Workflow
        fields = ("name", "description", "enabled", "graph")

    def clean_graph(self):
        graph = self.cleaned_data["graph"]
        problems = graph_problems(graph)
        if problems:
            raise forms.ValidationError([str(problem) for problem in problems])
        return graph


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
