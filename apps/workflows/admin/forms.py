"""Admin forms: a workflow's details and its rules."""

from __future__ import annotations

from django import forms

from apps.core.text import normalise_event_type
from apps.profiles.services.segment_history import SEGMENT_EVENT_TYPES
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
            "segment",
            "enabled",
            "required_consent",
            "answers_in_request",
        )
        help_texts = {
            "event_type": "Stored form: lower case, spaces as '-' (e.g. page-view). "
            "segment-entered / segment-left: a profile entered or left a segment (pick it "
            "below).",
        }

    def clean_event_type(self):
        event_type = normalise_event_type(self.cleaned_data["event_type"])
        if not event_type:
            raise forms.ValidationError("Write the event type, e.g. page-view.")
        return event_type

    def clean(self):
        cleaned = super().clean()
        event_type, segment = cleaned.get("event_type"), cleaned.get("segment")
        if segment is not None and event_type and event_type not in SEGMENT_EVENT_TYPES:
            self.add_error(
                "segment",
                "A segment to watch is for the segment-entered and segment-left events only: "
                "set the event type to one of them, or clear the segment.",
            )
        return cleaned
