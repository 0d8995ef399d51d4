"""MeaningCloud's sentiment analysis and text classification (apps.destinations.connectors.
meaningcloud): the text is a template, what MeaningCloud says goes to `result` (and to
`target`, when set); a refusal (its status code and message), a timeout or a rate limit that
did not pass goes to `error`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apps.destinations.connectors.http import VendorAnswer, VendorCall
from apps.destinations.connectors.meaningcloud import meaningcloud_call
from apps.workflows.actions.base import TARGET_PROPERTY, Result, optional_target
from apps.workflows.actions.connectors.base import (
    ConnectorAction,
    connector_schema,
    required,
    template_property,
)

if TYPE_CHECKING:
    from apps.workflows.engine import Flow

# Sentiment analysis 2.1's languages (ISO 639-1), "auto" lets MeaningCloud detect it.
SENTIMENT_LANGUAGES = {
    "auto": "Detect it",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "ca": "Catalan",
    "de": "German",
}
# Text classification 2.0's predefined models: the taxonomy and its language.
CLASSIFICATION_MODELS = {
    "IPTC_en": "IPTC news topics (English)",
    "IPTC_es": "IPTC news topics (Spanish)",
    "IPTC_fr": "IPTC news topics (French)",
    "IPTC_it": "IPTC news topics (Italian)",
    "IPTC_pt": "IPTC news topics (Portuguese)",
    "IPTC_ca": "IPTC news topics (Catalan)",
    "SocialMedia_en": "Social media topics (English)",
    "SocialMedia_es": "Social media topics (Spanish)",
    "EUROVOC_es_ca": "EuroVoc (Spanish, Catalan)",
}
SENTIMENT_FIELDS = ("score_tag", "agreement", "subjectivity", "confidence", "irony")
TEXT = template_property(
    "Text", "The text to analyse, e.g. {{event@properties.review}}.", long=True
)
RESULT_DOC = (
    "\n\nA refusal (MeaningCloud's status code other than 0, e.g. 100 Operation denied, 102 "
    "Credits per subscription exceeded), a timeout or a rate limit that did not pass goes to "
    "`error` with MeaningCloud's message in `error`."
)


def _choice(values: dict[str, str], default: str, title: str, description: str) -> dict:
    return {
        "type": "string",
        "enum": list(values),
        "x-enum-labels": list(values.values()),
        "default": default,
        "title": title,
        "description": description,
    }


class MeaningCloudAction(ConnectorAction):
    group = "Text analysis"
    outputs = ("result", "error")
    resource_types = ("meaningcloud",)
    vendor = "MeaningCloud"

    def setup(self) -> None:
        required(self.config, "text")
        optional_target(self.config)

    def answered(self, answer: VendorAnswer, payload: Any, flow: Flow) -> Result:
        return self.deliver(self.result(answer.content), payload, flow, port="result")

    def result(self, content: dict) -> dict:
        raise NotImplementedError


class MeaningCloudSentimentAction(MeaningCloudAction):
    id = "meaningcloud_sentiment"
    name = "MeaningCloud: sentiment analysis"
    description = "Tells whether a text is positive, negative or neutral (MeaningCloud)."
    docs = (
        "`text`: a template of the text; `language`: its language, or Detect it. `result` gets "
        '{"score_tag": "P+", "agreement": "AGREEMENT", "subjectivity": "SUBJECTIVE", '
        '"confidence": 98, "irony": "NONIRONIC"}: score_tag is P+ (strong positive), P, NEU, '
        "N, N+ (strong negative) or NONE (no sentiment); confidence 0-100." + RESULT_DOC
    )
    config_schema = connector_schema(
        MeaningCloudAction.resource_types,
        ["text"],
        text=TEXT,
        language=_choice(SENTIMENT_LANGUAGES, "en", "Language", "The language of the text."),
        target=TARGET_PROPERTY,
    )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        fields = {"txt": self.required_text("text", data), "lang": self.config["language"]}
        return meaningcloud_call(credentials, "sentiment-2.1", fields)

    def result(self, content: dict) -> dict:
        found = {key: content.get(key) for key in SENTIMENT_FIELDS}
        if str(found["confidence"] or "").isdigit():
            found["confidence"] = int(found["confidence"])
        return found


class MeaningCloudClassificationAction(MeaningCloudAction):
    id = "meaningcloud_classification"
    name = "MeaningCloud: text classification"
    description = "Sorts a text into the categories of a taxonomy (MeaningCloud)."
    docs = (
        "`text`: a template of the text; `title`: an optional title that weighs more; "
        "`model`: the taxonomy and language. `result` gets "
        '{"categories": [{"code": "11000000", "label": "politics", "abs_relevance": '
        '"0.59", "relevance": "100"}, ...]}, best first (empty when none fits).' + RESULT_DOC
    )
    config_schema = connector_schema(
        MeaningCloudAction.resource_types,
        ["text"],
        text=TEXT,
        title=template_property("Title", "Optional, e.g. {{event@properties.subject}}."),
        model=_choice(CLASSIFICATION_MODELS, "IPTC_en", "Model", "The taxonomy to sort into."),
        target=TARGET_PROPERTY,
    )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        fields = {"txt": self.required_text("text", data), "model": self.config["model"]}
        title = self.text("title", data).strip()
        if title:
            fields["title"] = title
        return meaningcloud_call(credentials, "class-2.0", fields)

    def result(self, content: dict) -> dict:
        return {"categories": list(content.get("category_list") or [])}
