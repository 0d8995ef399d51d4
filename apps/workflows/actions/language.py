"""Language detection, offline: py3langid's model (shipped inside the package; ISO 639 codes,
two letters where the language has them: en, pl, pcm) runs in the worker; nothing leaves the
CDP."""

from __future__ import annotations

import threading
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from apps import notation
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    Result,
    lookup,
    optional_target,
    readable_reference,
)

# Longer text is cut: the first characters decide the language, and the cost stays bounded.
MAX_TEXT_CHARS = 10_000
ALTERNATIVES = 2

_identifier: LanguageIdentifier | None = None
_lock = threading.Lock()


def _language_identifier() -> LanguageIdentifier:
    """The model, loaded once per process on first use (about a second)."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def language_detect(text: str) -> list[tuple[str, float]]:
    """(language code, confidence 0..1) of the likeliest languages, best first."""
    ranked = _language_identifier().rank(text[:MAX_TEXT_CHARS])
    return [(code, round(float(confidence), 4)) for code, confidence in ranked[: 1 + ALTERNATIVES]]


class DetectLanguageAction(Action):
    id = "detect_language"
    name = "Detect language"
    group = "Text analysis"
    description = "Tells which language a text is written in (offline, no outside service)."
    docs = (
        "`text`: a dot path to the text (e.g. `event@properties.review`) or a literal. The "
        "language is detected on this server by py3langid's model (ISO 639 codes: `en`, `pl`, "
        "`pcm`...). When the "
        "likeliest language's confidence (0 to 1) reaches `min_confidence`, "
        '`{"language": "pl", "confidence": 0.9995, "alternatives": [{"language", '
        '"confidence"}, ...]}` goes to `detected` (and to `target`, when set); otherwise, or '
        "when there is no text, the payload goes to `undetermined`. Short texts (a few words) "
        f"are often undetermined. Only the first {MAX_TEXT_CHARS:,} characters are read."
    )
    outputs = ("detected", "undetermined")
    config_schema = {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {
                "type": "string",
                "minLength": 1,
                "title": "Text",
                "description": "A dot path to the text, e.g. event@properties.review, or a "
                "literal text.",
                "x-notation": "value",
            },
            "min_confidence": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.8,
                "title": "Minimum confidence",
                "description": "From 0 to 1: below it the language counts as undetermined.",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["text"], field="text")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        text = lookup(self.config["text"], flow.data(payload))
        if text is notation.MISSING or not isinstance(text, str) or not text.strip():
            flow.log("info", f"no text at {self.config['text']}")
            return Result("undetermined", payload)
        (language, confidence), *others = language_detect(text)
        if confidence < self.config["min_confidence"]:
            flow.log("info", f"likeliest {language} at {confidence}, below the minimum")
            return Result("undetermined", payload)
        detected = {
            "language": language,
            "confidence": confidence,
            "alternatives": [{"language": code, "confidence": value} for code, value in others],
        }
        return self.deliver(detected, payload, flow, port="detected")
