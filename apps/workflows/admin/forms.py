"""Admin forms: a workflow's details and its rules."""

from __future__ import annotations

from django import forms

from apps.core.text import normalise_event_type
from apps.workflows.models import Rule, Workflow


class WorkflowForm(forms.ModelForm):
    """Name, description and switch; the graph is edited on the canvas (the editor)."""

    class Meta:
        model = Workflow
        fields = ("name", "description", "enabled")


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = (
            "name",
            "description",
            "event_type",
            "source",
            "workflow",
            "enabled",
            "required_consent",
            "answers_in_request",
        )

    def clean_event_type(self):
        event_type = normalise_event_type(self.cleaned_data["event_type"])
        if not event_type:
            raise forms.ValidationError("Write the event type, e.g. page-view.")
        return event_type
