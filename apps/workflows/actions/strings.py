"""Text operations Tracardi users reach for: string properties (lower, upper, title...),
strip characters, replace, join a list, similarity, contains / starts with / ends with.

Config keys and output shapes are Tracardi's (its plugins under `strings.*`,
`contains_string_action`, `starts_with_action`, `ends_with_action`), so its flows import as
they are; each value field takes a dot path or a literal.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz.distance import OSA, DamerauLevenshtein, Indel, JaroWinkler, Levenshtein

from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ConfigError,
    Result,
    optional_target,
)
from apps.workflows.actions.reading import (
    check_references,
    not_a,
    read,
    read_text,
    text_property,
    type_name,
    value_property,
)


def _properties(text: str) -> dict:
    """Tracardi's "String properties" output (its `encode`, bytes, has no JSON form)."""
    return {
        "capitalize": text.capitalize(),
        "casefold": text.casefold(),
        "isalnum": text.isalnum(),
        "isalpha": text.isalpha(),
        "isascii": text.isascii(),
        "isdecimal": text.isdecimal(),
        "isdigit": text.isdigit(),
        "isidentifier": text.isidentifier(),
        "islower": text.islower(),
        "isnumeric": text.isnumeric(),
        "isprintable": text.isprintable(),
        "isspace": text.isspace(),
        "istitle": text.istitle(),
        "isupper": text.isupper(),
        "lower": text.lower(),
        "lstrip": text.lstrip(),
        "rstrip": text.rstrip(),
        "strip": text.strip(),
        "swapcase": text.swapcase(),
        "title": text.title(),
        "upper": text.upper(),
        "length": len(text),
    }


class StringPropertiesAction(Action):
    id = "string_properties"
    name = "String properties"
    group = "Text"
    description = "Lower case, upper case, title case, stripped... of a text, and what it is."
    docs = (
        "`string`: a dot path to the text (or the text). Output: an object with the text "
        "converted (`lower`, `upper`, `title`, `capitalize`, `casefold`, `swapcase`, `strip`, "
        "`lstrip`, `rstrip`), its `length`, and checks (`isalpha`, `isdigit`, `isnumeric`, "
        "`islower`, `isupper`, `istitle`, `isspace`, ...). Read one with the next node, e.g. "
        "`payload@lower`. With `target` set the object is also written there."
    )
    config_schema = {
        "type": "object",
        "required": ["string"],
        "properties": {
            "string": value_property("Text", "A dot path to the text, e.g. event@properties.q."),
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        check_references(self.config, "string")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        return self.deliver(_properties(read_text(self, "string", payload, flow)), payload, flow)


class StringStripperAction(Action):
    id = "string_stripper"
    name = "String stripper"
    group = "Text"
    description = "Removes every occurrence of the given characters from a text."
    docs = (
        "`string`: a dot path to the text; `to_remove`: the characters to remove (each one, "
        'anywhere: `" -()"` turns `+48 (600) 100-200` into `+48600100200`). Output on '
        '`removed`: `{"value": "<the text without them>"}`.'
    )
    outputs = ("removed",)
    config_schema = {
        "type": "object",
        "required": ["string", "to_remove"],
        "properties": {
            "string": value_property("Text", "A dot path to the text, or the text."),
            "to_remove": text_property(
                "Characters to remove",
                "Every one of these characters is removed, e.g. -_.",
                minLength=1,
            ),
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        check_references(self.config, "string")
        optional_target(self.config)
        self.table = str.maketrans("", "", self.config["to_remove"])

    def run(self, payload: Any, flow) -> Result:
        stripped = read_text(self, "string", payload, flow).translate(self.table)
        if self.config["target"]:
            self.deliver(stripped, payload, flow)
        return Result("removed", {"value": stripped})


class StringReplaceAction(Action):
    id = "string_replace"
    name = "String replace"
    group = "Text"
    description = "Replaces every occurrence of a text with another (no regular expressions)."
    docs = (
        "`field`: a dot path to the text; `find`: what to look for; `replace`: what to put "
        'instead. Output on `output`: `{"value": "<new text>"}`; when the field is not a text, '
        '`{"message"}` on `error`. With `target` set the new text is also written there.'
    )
    outputs = ("output", "error")
    config_schema = {
        "type": "object",
        "required": ["field", "find"],
        "properties": {
            "field": value_property("Text", "A dot path to the text, e.g. profile@traits.code."),
            "find": text_property("Find", "The text to look for, e.g. http://", minLength=1),
            "replace": text_property("Replace with", "What replaces it, e.g. https://", default=""),
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        check_references(self.config, "field")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        value = read(self, "field", payload, flow)
        if not isinstance(value, str):
            message = f"{self.config['field']} is {type_name(value)}, not a text"
            return Result("error", {"message": message})
        replaced = value.replace(self.config["find"], self.config["replace"])
        if self.config["target"]:
            self.deliver(replaced, payload, flow)
        return Result("output", {"value": replaced})


class JoinStringListAction(Action):
    id = "join_string_list"
    name = "Join string list"
    group = "Text"
    description = "Joins the items of a list into one text with a delimiter."
    docs = (
        "`string`: a dot path to the list; `delimiter` (default `,`). Items that are not "
        'texts are written as they print (numbers as `12`). Output: `{"result": "a,b,c"}`.'
    )
    config_schema = {
        "type": "object",
        "required": ["string"],
        "properties": {
            "string": value_property("List", "A dot path to the list, e.g. event@properties.tags."),
            "delimiter": text_property("Delimiter", "What goes between the items.", default=","),
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        check_references(self.config, "string")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        items = read(self, "string", payload, flow)
        if not isinstance(items, list):
            raise not_a(self, "string", items, "a list")
        joined = self.config["delimiter"].join(
            item if isinstance(item, str) else str(item) for item in items
        )
        if self.config["target"]:
            self.deliver(joined, payload, flow)
        return Result("payload", {"result": joined})


# Tracardi's algorithms (strsimpy's distances), computed by rapidfuzz.
SIMILARITY = {
    "levenshtein": Levenshtein.distance,
    "normalized_levenshtein": Levenshtein.normalized_distance,
    "weighted_levenshtein": Levenshtein.distance,  # strsimpy's default weights are all 1
    "damerau": DamerauLevenshtein.distance,
    "optimal_string_alignment": OSA.distance,
    "jaro_winkler": JaroWinkler.distance,
    "longest_common_subsequence": Indel.distance,
}


class StringSimilarityAction(Action):
    id = "string_similarity"
    name = "String similarity"
    group = "Text"
    description = "How far apart two texts are (Levenshtein, Jaro-Winkler, ...)."
    docs = (
        "`first_string`, `second_string`: dot paths to the texts (or texts); `algorithm`: "
        "`levenshtein` (edits needed), `normalized_levenshtein` (0 = same, 1 = nothing alike, "
        "the default), `weighted_levenshtein`, `damerau` (swaps count as one edit), "
        "`optimal_string_alignment`, `jaro_winkler` (0 = same ... 1) or "
        '`longest_common_subsequence` (characters not shared). Output: `{"similarity": '
        "<distance>}`; a smaller number means more alike."
    )
    config_schema = {
        "type": "object",
        "required": ["first_string", "second_string"],
        "properties": {
            "first_string": value_property("First text", "A dot path to a text, or a text."),
            "second_string": value_property("Second text", "A dot path to a text, or a text."),
            "algorithm": {
                "enum": list(SIMILARITY),
                "default": "normalized_levenshtein",
                "title": "Algorithm",
                "description": "How the distance is measured.",
            },
        },
    }

    def setup(self) -> None:
        check_references(self.config, "first_string", "second_string")

    def run(self, payload: Any, flow) -> Result:
        first = read_text(self, "first_string", payload, flow)
        second = read_text(self, "second_string", payload, flow)
        distance = SIMILARITY[self.config["algorithm"]](first, second)
        return Result("payload", {"similarity": distance})


class _TextTestAction(Action):
    """Routes the unchanged payload to `true` or `false` by a test on a text."""

    group = "Text"
    outputs = ("true", "false")
    text_key = "prefix"

    def setup(self) -> None:
        check_references(self.config, "field")
        if not self.config[self.text_key]:
            raise ConfigError(f"{self.text_key}: write the text to look for")

    def holds(self, value: str, text: str) -> bool:
        raise NotImplementedError

    def run(self, payload: Any, flow) -> Result:
        value = read_text(self, "field", payload, flow)
        holds = self.holds(value, self.config[self.text_key])
        return Result("true" if holds else "false", payload)


def _test_schema(key: str, title: str, description: str) -> dict:
    return {
        "type": "object",
        "required": ["field", key],
        "properties": {
            "field": value_property("Text", "A dot path to the text, e.g. event@properties.url."),
            key: text_property(title, description, minLength=1),
        },
    }


class ContainsStringAction(_TextTestAction):
    id = "contains_string"
    name = "Contains string"
    description = "Routes by whether a text contains another."
    docs = (
        "`field`: a dot path to the text; `substring`: what to look for (case sensitive). "
        "The payload goes to `true` when the text contains it, to `false` otherwise; a field "
        "that is missing or not a text stops the run with an error."
    )
    text_key = "substring"
    config_schema = _test_schema("substring", "Substring", "The text to look for, e.g. sale")

    def holds(self, value: str, text: str) -> bool:
        return text in value


class StartsWithAction(_TextTestAction):
    id = "starts_with"
    name = "Starts with"
    description = "Routes by whether a text starts with a prefix."
    docs = (
        "`field`: a dot path to the text; `prefix`: the beginning to check (case sensitive). "
        "The payload goes to `true` or `false`."
    )
    config_schema = _test_schema("prefix", "Prefix", "The text must start with this, e.g. https://")

    def holds(self, value: str, text: str) -> bool:
        return value.startswith(text)


class EndsWithAction(_TextTestAction):
    id = "ends_with"
    name = "Ends with"
    description = "Routes by whether a text ends with a suffix."
    docs = (
        "`field`: a dot path to the text; `prefix`: the ending to check (Tracardi calls it "
        "prefix; case sensitive). The payload goes to `true` or `false`."
    )
    config_schema = _test_schema("prefix", "Ending", "The text must end with this, e.g. .pdf")

    def holds(self, value: str, text: str) -> bool:
        return value.endswith(text)
