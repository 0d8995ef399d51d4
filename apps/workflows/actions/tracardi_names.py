"""Tracardi's names for our actions: the plugin (module path, class name) of each Tracardi node
that one of our actions runs, its port names, and its config keys.

A Tracardi node names its plugin by `data.spec.module` and `data.spec.className` (the names in
Tracardi's `tracardi/service/setup/setup_plugins.py` and each plugin's `register()`; stable
from 0.8.0 to 0.9.0, the interest plugins since 0.8.1). Its config (`data.spec.init`) uses
Tracardi's keys, e.g. `mergeBy` where we write `merge_by`.

Converting a config:
- to ours: Tracardi's keys are renamed (`keys`), `to_ours` fixes shapes (a list of
  `{"id", "name"}` objects becomes a list of ids, "1.0" becomes 1.0), `import_defaults` fill in
  what makes our action behave as Tracardi's (its splitter strips but keeps empty parts), and
  keys our schema does not know are dropped;
- to Tracardi: the reverse, over Tracardi's defaults for the keys its form expects; our keys
  Tracardi has no name for are kept as they are (Tracardi ignores unknown config keys), so a
  workflow exported and imported again comes back unchanged.

Ports: `ports` maps a Tracardi output port to ours where the names differ. A Tracardi port we do
not have (most plugins have an `error` port; our actions stop the run instead) has no entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_V1 = "tracardi.process_engine.action.v1."


class NotConvertible(Exception):
    """A Tracardi config our action cannot express (the node is kept as a placeholder)."""


@dataclass(frozen=True, slots=True)
class TracardiPlugin:
    action_id: str
    module: str
    class_name: str
    inputs: tuple[str, ...] = ("payload",)
    outputs: tuple[str, ...] = ("payload",)
    # Tracardi output port -> our output port, where the names differ.
    ports: Mapping[str, str] = field(default_factory=dict)
    # Tracardi config key -> our config key, where the names differ.
    keys: Mapping[str, str] = field(default_factory=dict)
    # The module alone names the plugin: Tracardi's commercial plugins (com_tracardi) publish
    # their module paths and configs, not their class names; `class_name` is what an export
    # writes.
    any_class: bool = False
    # Our config values that make our action behave as the Tracardi plugin does, used when
    # the Tracardi config has no key for them.
    import_defaults: Mapping[str, Any] = field(default_factory=dict)
    # The Tracardi config an exported node starts from (keys Tracardi's form expects).
    export_defaults: Mapping[str, Any] = field(default_factory=dict)
    to_ours: Callable[[dict], dict] | None = None
    to_tracardi: Callable[[dict], dict] | None = None

    def our_port(self, port: Any) -> Any:
        return self.ports.get(port, port)

    def tracardi_port(self, port: Any) -> Any:
        for theirs, ours in self.ports.items():
            if ours == port:
                return theirs
        return port

    def config_to_ours(self, init: Any, known: set[str]) -> dict:
        """Tracardi's init as our config, limited to the keys in `known` (our schema's)."""
        if init is None:
            init = {}
        if not isinstance(init, dict):
            raise NotConvertible("its config (data.spec.init) is not an object")
        config = {self.keys.get(key, key): value for key, value in init.items()}
        if self.to_ours is not None:
            config = self.to_ours(config)
        config = {**self.import_defaults, **config}
        return {key: value for key, value in config.items() if key in known}

    def config_to_tracardi(self, config: dict) -> dict:
        renamed = {ours: theirs for theirs, ours in self.keys.items()}
        converted = dict(config)
        if self.to_tracardi is not None:
            converted = self.to_tracardi(converted)
        init = {renamed.get(key, key): value for key, value in converted.items()}
        return {**self.export_defaults, **init}


# -- shape converters --------------------------------------------------------------------


def _ids(items: Any, field_name: str) -> list:
    """Tracardi stores picked event types and consents as [{"id", "name"}]."""
    if not isinstance(items, list):
        raise NotConvertible(f"{field_name} is not a list")
    return [item.get("id") if isinstance(item, dict) else item for item in items]


def _named(ids: list) -> list[dict]:
    return [{"id": item, "name": item} for item in ids]


def _start_to_ours(config: dict) -> dict:
    if "event_types" in config:
        config["event_types"] = _ids(config["event_types"], "event_types")
    return config


def _start_to_tracardi(config: dict) -> dict:
    return {**config, "event_types": _named(config.get("event_types") or [])}


def _number(value: Any) -> Any:
    """Tracardi's forms keep numbers as text ("1.0"); a dot path stays a text."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value


def _interest_to_ours(config: dict) -> dict:
    if "value" in config:
        config["value"] = _number(config["value"])
    return config


def _consent_to_ours(config: dict) -> dict:
    ids = _ids(config.pop("consent_ids", []), "consent_ids")
    if len(ids) != 1:
        raise NotConvertible(f"it requires {len(ids)} consents; Has consent checks exactly one")
    return {**config, "consent": ids[0]}


def _consent_to_tracardi(config: dict) -> dict:
    consent = config.pop("consent", "")
    return {**config, "consent_ids": _named([consent])}


def _remote_call_to_ours(config: dict) -> dict:
    if isinstance(config.get("method"), str):
        config["method"] = config["method"].upper()
    body = config.get("body")
    if isinstance(body, dict) and set(body) <= {"type", "content"}:
        content = body.get("content")
        if body.get("type", "application/json") != "application/json":
            raise NotConvertible(f"its body is {body.get('type')}; Remote HTTP call sends JSON")
        try:
            config["body"] = None if content in (None, "") else json.loads(content)
        except (TypeError, ValueError) as exc:
            raise NotConvertible(f"its body is not JSON ({exc})") from exc
    return config


def _remote_call_to_tracardi(config: dict) -> dict:
    return {
        **config,
        "method": str(config.get("method", "POST")).lower(),
        "body": {"type": "application/json", "content": json.dumps(config.get("body"))},
    }


PLUGINS: tuple[TracardiPlugin, ...] = (
    TracardiPlugin(
        "start",
        _V1 + "flow.start.start_action",
        "StartAction",
        inputs=(),
        export_defaults={
            "debug": False,
            "event_types": [],
            "properties": "{}",
            "event_id": None,
            "profile_id": None,
            "session_id": None,
            "event_type": {"name": "", "id": ""},
        },
        to_ours=_start_to_ours,
        to_tracardi=_start_to_tracardi,
    ),
    TracardiPlugin("end", _V1 + "end_action", "EndAction", outputs=()),
    TracardiPlugin(
        "if",
        _V1 + "if_action",
        "IfAction",
        outputs=("true", "false"),
        export_defaults={"trigger_once": False, "pass_payload": True, "ttl": 0},
    ),
    TracardiPlugin(
        "condition_set",
        _V1 + "traits.condition_set.plugin",
        "ConditionSetPlugin",
        outputs=("result",),
        ports={"result": "payload"},
    ),
    TracardiPlugin("log_message", _V1 + "log_action", "LogAction"),
    TracardiPlugin("throw_error", _V1 + "raise_error_action", "RaiseErrorAction", outputs=()),
    TracardiPlugin(
        "copy_data",
        _V1 + "traits.copy_trait_action",
        "CopyTraitAction",
        outputs=("payload", "error"),
    ),
    TracardiPlugin("delete_data", _V1 + "traits.delete_trait_action", "DeleteTraitAction"),
    TracardiPlugin(
        "append_remove",
        _V1 + "traits.append_trait_action",
        "AppendTraitAction",
        outputs=("payload", "error"),
    ),
    TracardiPlugin(
        "string_template",
        _V1 + "template_action",
        "TemplateAction",
        outputs=("template",),
        ports={"template": "payload"},
    ),
    TracardiPlugin(
        "add_segment",
        _V1 + "segmentation.add.plugin",
        "AddSegmentAction",
        outputs=("payload", "error"),
    ),
    TracardiPlugin("remove_segment", _V1 + "segmentation.delete.plugin", "DeleteSegmentAction"),
    TracardiPlugin(
        "increase_interest",
        _V1 + "interest.increase.plugin",
        "IncreaseInterestAction",
        outputs=("payload", "error"),
        to_ours=_interest_to_ours,
    ),
    TracardiPlugin(
        "decrease_interest",
        _V1 + "interest.decrease.plugin",
        "DecreaseInterestAction",
        outputs=("payload", "error"),
        to_ours=_interest_to_ours,
    ),
    TracardiPlugin(
        "increment_counter",
        _V1 + "increment_action",
        "IncrementAction",
        outputs=("payload", "error"),
    ),
    TracardiPlugin(
        "decrement_counter",
        _V1 + "decrement_action",
        "DecrementAction",
        outputs=("payload", "error"),
    ),
    TracardiPlugin(
        "has_consent",
        _V1 + "consents.require_consents_action.plugin",
        "RequireConsentsAction",
        outputs=("true", "false"),
        export_defaults={"require_all": False},
        to_ours=_consent_to_ours,
        to_tracardi=_consent_to_tracardi,
    ),
    TracardiPlugin(
        "merge_profiles",
        _V1 + "operations.merge_profiles_action",
        "MergeProfilesAction",
        outputs=("payload", "error"),
        keys={"mergeBy": "merge_by"},
    ),
    TracardiPlugin(
        "remote_call",
        _V1 + "connectors.api_call.plugin",
        "RemoteCallAction",
        outputs=("response", "error"),
        keys={"endpoint": "url"},
        export_defaults={
            "source": {"name": None, "id": None},
            "set_default_null": True,
            "cookies": {},
            "ssl_check": True,
            "log": False,
        },
        to_ours=_remote_call_to_ours,
        to_tracardi=_remote_call_to_tracardi,
    ),
    TracardiPlugin(
        "parse_url",
        _V1 + "strings.url_parser.plugin",
        "ParseURLParameters",
        # Tracardi reads parse_qsl into a dict: the last value of a repeated parameter, and
        # none with an empty value.
        import_defaults={"repeated": "last", "blank_values": False},
        export_defaults={"url": "session@context.page.url"},
    ),
    TracardiPlugin(
        "split_string",
        _V1 + "strings.string_splitter.plugin",
        "SplitterAction",
        import_defaults={"strip": True, "skip_empty": False},
    ),
    TracardiPlugin(
        "regex_match",
        _V1 + "strings.regex_match.plugin",
        "RegexMatchAction",
        ports={"payload": "matched"},
    ),
    TracardiPlugin(
        "regex_replace",
        _V1 + "strings.regex_replace.plugin",
        "RegexReplacer",
        outputs=("replaced", "not_found"),
        ports={"replaced": "payload"},
        keys={"string": "text", "find_regex": "pattern", "replace_with": "replacement"},
    ),
    TracardiPlugin(
        "hash_data",
        _V1 + "traits.hash_traits_action",
        "HashTraitsAction",
        keys={"traits": "data"},
    ),
    TracardiPlugin(
        "mask_data",
        _V1 + "traits.mask_traits_action",
        "MaskTraitsAction",
        keys={"traits": "data"},
    ),
    TracardiPlugin(
        "detect_client_agent",
        _V1 + "detect_client_agent_action",
        "DetectClientAgentAction",
    ),
    TracardiPlugin(
        "generate_uuid",
        _V1 + "misc.uuid4.plugin",
        "GetUuid4Action",
        outputs=("uuid4",),
        ports={"uuid4": "payload"},
    ),
    TracardiPlugin(
        "calculator",
        _V1 + "calculator_action",
        "CalculatorAction",
        keys={"calc_dsl": "calculation"},
    ),
    TracardiPlugin(
        "sort_list",
        _V1 + "sort_array_action",
        "SortArrayAction",
        outputs=("result", "error"),
        ports={"result": "payload"},
    ),
    TracardiPlugin(
        "day_night",
        _V1 + "time.day_night.plugin",
        "DayNightAction",
        outputs=("day", "night", "error"),
    ),
    TracardiPlugin(
        "time_difference",
        _V1 + "time.time_difference.plugin",
        "TimeDiffCalculator",
        outputs=("time_difference",),
        ports={"time_difference": "payload"},
    ),
)

# -- Entities and memory (issue 23) ------------------------------------------------------


def _json_object(value: Any, field_name: str) -> dict:
    """Tracardi's entity forms keep object templates as JSON text ('{}')."""
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise NotConvertible(f"its {field_name} is not JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise NotConvertible(f"its {field_name} is not a JSON object")
    return loaded


def _entity_type_to_ours(config: dict) -> dict:
    if isinstance(config.get("type"), dict):
        config["type"] = config["type"].get("id") or config["type"].get("name") or ""
    return config


def _entity_type_to_tracardi(config: dict) -> dict:
    return {**config, "type": {"id": config.get("type", ""), "name": config.get("type", "")}}


def _upsert_entity_to_ours(config: dict) -> dict:
    config = _entity_type_to_ours(config)
    for name in ("properties", "traits"):
        if name in config:
            config[name] = _json_object(config[name], name)
    return config


def _upsert_entity_to_tracardi(config: dict) -> dict:
    return {
        **config,
        "properties": json.dumps(config.get("properties") or {}),
        "traits": json.dumps(config.get("traits") or {}),
    }


def _memory_key_to_ours(config: dict) -> dict:
    """Tracardi's key is a dot path (or a literal); ours a string template, with its prefix."""
    key = config.get("key")
    if isinstance(key, str) and "@" in key and "{{" not in key:
        key = "{{" + key + "}}"
    prefix = (config.pop("prefix", "") or "").strip()
    if prefix and isinstance(key, str):
        key = f"{prefix}:{key}"
    config["key"] = key
    return config


def _write_memory_to_ours(config: dict) -> dict:
    config = _memory_key_to_ours(config)
    ttl = _number(config.get("ttl"))
    # Tracardi's 0 keeps the value for ever; ours lives at most 30 days.
    if isinstance(ttl, int | float) and ttl <= 0:
        ttl = 30 * 24 * 3600
    if ttl is not None:
        config["ttl"] = int(ttl) if isinstance(ttl, int | float) else ttl
    return config


_COM = "com_tracardi.action.v1."
_OPERATIONS = _V1 + "operations."
PLUGINS = (
    *PLUGINS,
    TracardiPlugin(
        "upsert_entity",
        _COM + "entity.upsert.plugin",
        "EntityUpsertAction",
        any_class=True,
        to_ours=_upsert_entity_to_ours,
        to_tracardi=_upsert_entity_to_tracardi,
    ),
    TracardiPlugin(
        "load_entity",
        _COM + "entity.load.plugin",
        "EntityLoadAction",
        any_class=True,
        to_ours=_entity_type_to_ours,
        to_tracardi=_entity_type_to_tracardi,
    ),
    TracardiPlugin(
        "delete_entity",
        _COM + "entity.delete.plugin",
        "EntityDeleteAction",
        any_class=True,
        to_ours=_entity_type_to_ours,
        to_tracardi=_entity_type_to_tracardi,
    ),
    TracardiPlugin(
        "write_memory",
        _OPERATIONS + "write_to_memory.plugin",
        "WriteToMemoryAction",
        outputs=("success", "error"),
        export_defaults={"prefix": "", "resource": {"name": "", "id": ""}},
        to_ours=_write_memory_to_ours,
    ),
    TracardiPlugin(
        "read_memory",
        _OPERATIONS + "read_from_memory.plugin",
        "ReadFromMemoryAction",
        outputs=("success", "not-exists", "error"),
        export_defaults={"prefix": "", "resource": {"name": "", "id": ""}},
        to_ours=_memory_key_to_ours,
    ),
    # Tracardi's memory.collect.plugin gathers within one run: the logic block maps it to
    # payload_collector; memory_collector (across runs, in Redis) has no Tracardi twin.
)
# -- Reports (issue 23 item 6) ----------------------------------------------------------------
# Tracardi's Load report data (internal/get_report, GetReportAction) keeps the picked report as
# report_config.report {"id", "name"} and its parameters as JSON text in report_config.params.


def _load_report_to_ours(config: dict) -> dict:
    picked = config.pop("report_config", None)
    if picked is None:
        return config
    if not isinstance(picked, dict):
        raise NotConvertible("its report_config is not an object")
    report = picked.get("report") or {}
    config["report"] = (
        (report.get("name") or report.get("id") or "") if isinstance(report, dict) else str(report)
    )
    config["parameters"] = _json_object(picked.get("params"), "report_config.params")
    return config


def _load_report_to_tracardi(config: dict) -> dict:
    config = dict(config)
    report = config.pop("report", "")
    parameters = config.pop("parameters", {}) or {}
    return {
        **config,
        "report_config": {
            "report": {"id": report, "name": report},
            "params": json.dumps(parameters),
        },
    }


PLUGINS = (
    *PLUGINS,
    TracardiPlugin(
        "load_report",
        _V1 + "internal.get_report.plugin",
        "GetReportAction",
        outputs=("result", "error"),
        to_ours=_load_report_to_ours,
        to_tracardi=_load_report_to_tracardi,
    ),
)

# -- Geo location (issue 23 item 5) -------------------------------------------------------


def _geoip_to_ours(config: dict) -> dict:
    """Tracardi's plugin names a MaxMind resource (a web-service account or a local file);
    ours always reads the database file of CDP_GEOIP_DATABASE, so the resource is dropped."""
    config.pop("source", None)
    if "add_to_profile" in config:
        config["add_to_profile"] = bool(config["add_to_profile"])
    return config


PLUGINS = (
    *PLUGINS,
    TracardiPlugin(
        "geoip",
        _V1 + "connectors.maxmind.geoip.plugin",
        "GeoIPAction",
        # Tracardi has no not-found port: an unknown IP fails its lookup (`error`).
        outputs=("location", "error"),
        ports={"location": "found"},
        export_defaults={"source": {"id": None, "name": None}},
        to_ours=_geoip_to_ours,
    ),
)
# -- the pure-logic plugins (issue 19 item 3) --------------------------------------------------
# Their config keys are ours too, so most need no key map; the converters below fix shapes.


def _event_type_to_ours(config: dict) -> dict:
    """Tracardi picks the event type as {"id", "name"} ("@current": this event's type)."""
    picked = config.get("event_type")
    if isinstance(picked, dict):
        config["event_type"] = picked.get("id") or "@current"
    return config


def _event_type_to_tracardi(config: dict) -> dict:
    picked = config.get("event_type", "@current")
    return {**config, "event_type": {"id": picked, "name": picked}}


def _json_text_to_ours(key: str) -> Callable[[dict], dict]:
    """Tracardi keeps an object template as JSON text in a code field."""

    def convert(config: dict) -> dict:
        text = config.get(key)
        if isinstance(text, str):
            try:
                config[key] = json.loads(text) if text.strip() else {}
            except ValueError as exc:
                raise NotConvertible(f"its {key} is not JSON ({exc})") from exc
        return config

    return convert


def _json_text_to_tracardi(key: str) -> Callable[[dict], dict]:
    def convert(config: dict) -> dict:
        return {**config, key: json.dumps(config.get(key) or {})}

    return convert


def _radius_to_ours(config: dict) -> dict:
    if "radius" in config:
        config["radius"] = _number(config["radius"])
    return config


def _key_counter_to_ours(config: dict) -> dict:
    keys = config.get("key")
    if isinstance(keys, list):
        if len(keys) != 1:
            raise NotConvertible("it counts several paths; Key counter here counts one")
        config["key"] = keys[0]
    return config


def _timezone_to_ours(config: dict) -> dict:
    # Tracardi's Today without a time zone answers in server time; ours is UTC.
    if config.get("timezone") is None:
        config["timezone"] = "UTC"
    return config


def _profile_field_to_ours(config: dict) -> dict:
    # Tracardi names the profile field without a source (data.contact.email.main).
    field_name = config.get("field")
    if isinstance(field_name, str) and not field_name.startswith("profile@"):
        config["field"] = "profile@" + field_name
    return config


def _profile_field_to_tracardi(config: dict) -> dict:
    return {**config, "field": str(config.get("field", "")).removeprefix("profile@")}


LOGIC_PLUGINS: tuple[TracardiPlugin, ...] = (
    TracardiPlugin(
        "join",
        _V1 + "operations.join_payloads.plugin",
        "JoinPayloads",
        to_ours=_json_text_to_ours("reshape"),
        to_tracardi=_json_text_to_tracardi("reshape"),
    ),
    TracardiPlugin(
        "string_properties", _V1 + "strings.string_operations.plugin", "StringPropertiesActions"
    ),
    TracardiPlugin(
        "string_stripper",
        _V1 + "strings.string_stripper.plugin",
        "StringStripper",
        outputs=("removed",),
    ),
    TracardiPlugin(
        "string_replace",
        _V1 + "strings.string_replace.plugin",
        "StringReplaceAction",
        outputs=("output", "error"),
    ),
    TracardiPlugin("join_string_list", _V1 + "strings.string_join.plugin", "JoinAction"),
    TracardiPlugin(
        "string_similarity",
        _V1 + "strings.string_similarity.plugin",
        "SearchStringSimilarityAction",
    ),
    TracardiPlugin(
        "contains_string",
        _V1 + "contains_string_action",
        "ContainsStringAction",
        outputs=("true", "false"),
    ),
    TracardiPlugin(
        "starts_with", _V1 + "starts_with_action", "StartsWithAction", outputs=("true", "false")
    ),
    TracardiPlugin(
        "ends_with", _V1 + "ends_with_action", "EndsWithAction", outputs=("true", "false")
    ),
    TracardiPlugin("value_mapping", _V1 + "mapping_action", "MappingAction", outputs=("result",)),
    TracardiPlugin(
        "key_counter",
        _V1 + "metrics.key_counter.plugin",
        "KeyCounterAction",
        to_ours=_key_counter_to_ours,
    ),
    TracardiPlugin(
        "random_item",
        _V1 + "return_random_element_action",
        "RandomItemAction",
        outputs=("random_element",),
    ),
    TracardiPlugin(
        "field_type", _V1 + "traits.field_type_action", "FieldTypeAction", outputs=("field_info",)
    ),
    TracardiPlugin(
        "cut_out_data", _V1 + "traits.cut_out_trait_action", "CutOutTraitAction", outputs=("trait",)
    ),
    TracardiPlugin(
        "reshape_payload",
        _V1 + "traits.reshape_payload_action",
        "ReshapePayloadAction",
        outputs=("payload", "error"),
        to_ours=_json_text_to_ours("value"),
        to_tracardi=_json_text_to_tracardi("value"),
    ),
    TracardiPlugin(
        "resolve_conditions",
        _V1 + "traits.assign_condition_result.plugin",
        "AssignConditionResultPlugin",
    ),
    TracardiPlugin(
        "data_exists",
        _V1 + "flow.property_exists.plugin",
        "PropertyExistsAction",
        outputs=("true", "false"),
    ),
    TracardiPlugin(
        "set_operation",
        _V1 + "list.operations_on_sets.plugin",
        "SetOperationPlugin",
        outputs=("result", "error"),
    ),
    TracardiPlugin(
        "find_max_value",
        _V1 + "list.find_max_value.plugin",
        "FindMaxValuePlugin",
        outputs=("result", "error"),
    ),
    TracardiPlugin(
        "sort_dictionary", _V1 + "sort_dictionary", "SortedDictAction", outputs=("result", "error")
    ),
    TracardiPlugin("base64_encode", _V1 + "converters.base64.encode.plugin", "Base64EncodeAction"),
    TracardiPlugin("base64_decode", _V1 + "converters.base64.decode.plugin", "Base64DecodeAction"),
    TracardiPlugin("data_to_json", _V1 + "converters.data_to_json.plugin", "ObjectToJsonAction"),
    TracardiPlugin(
        "json_to_data",
        _V1 + "converters.json_to_data.plugin",
        "JsonToObjectAction",
        outputs=("payload", "error"),
    ),
    TracardiPlugin(
        "string_validator",
        _V1 + "strings.string_validator.plugin",
        "StringValidatorAction",
        outputs=("valid", "invalid"),
    ),
    TracardiPlugin(
        "regex_validator",
        _V1 + "strings.regex_validator.plugin",
        "RegexValidatorAction",
        outputs=("valid", "invalid"),
    ),
    TracardiPlugin(
        "contains_pattern",
        _V1 + "operations.contains_pattern.plugin",
        "ContainsPatternAction",
        outputs=("true", "false"),
    ),
    TracardiPlugin("geo_distance", _V1 + "geo.distance.plugin", "GeoDistanceAction"),
    TracardiPlugin(
        "geo_fence",
        _V1 + "geo.fence.circular.plugin",
        "CircularGeoFenceAction",
        to_ours=_radius_to_ours,
    ),
    TracardiPlugin(
        "today",
        _V1 + "time.today_action",
        "TodayAction",
        outputs=("payload", "error"),
        to_ours=_timezone_to_ours,
    ),
    TracardiPlugin(
        "local_time_span",
        _V1 + "time.local_time_span.plugin",
        "LocalTimeSpanAction",
        outputs=("in", "out"),
    ),
    TracardiPlugin(
        "profile_live_time",
        _V1 + "time.profile_live_time.plugin",
        "ProfileLiveTimeAction",
        outputs=("live-time", "error"),
    ),
    TracardiPlugin(
        "last_visit",
        _V1 + "time.last_profile_visit.plugin",
        "LastVisitAction",
        outputs=("visit", "error"),
    ),
    TracardiPlugin(
        "has_segment",
        _V1 + "segmentation.has.plugin",
        "HasSegmentAction",
        outputs=("True", "False"),
        ports={"True": "true", "False": "false"},
    ),
    TracardiPlugin("move_segment", _V1 + "segmentation.move.plugin", "MoveSegmentAction"),
    TracardiPlugin(
        "new_profile", _V1 + "new_profile_action", "NewProfileAction", outputs=("true", "false")
    ),
    TracardiPlugin(
        "new_visit", _V1 + "new_visit_action", "NewVisitAction", outputs=("true", "false")
    ),
    TracardiPlugin(
        "previous_event",
        _V1 + "internal.get_prev_event.plugin",
        "PreviousEventGetter",
        outputs=("found", "not_found"),
        to_ours=_event_type_to_ours,
        to_tracardi=_event_type_to_tracardi,
    ),
    TracardiPlugin(
        "previous_session",
        _V1 + "internal.get_prev_session.plugin",
        "PreviousSessionAction",
        outputs=("found", "not_found"),
    ),
    TracardiPlugin(
        "load_profile_by_field",
        _V1 + "internal.inject_profile_by_field.plugin",
        "InjectProfileByField",
        outputs=("profile", "error"),
        to_ours=_profile_field_to_ours,
        to_tracardi=_profile_field_to_tracardi,
    ),
    TracardiPlugin(
        "reduce_array",
        _V1 + "operations.reduce_array.plugin",
        "ArrayReducer",
        outputs=("result", "error"),
    ),
    TracardiPlugin("payload_collector", _V1 + "memory.collect.plugin", "PayloadMemoryCollector"),
    TracardiPlugin(
        "weekend_check", _V1 + "weekdays_checker_action", "WeekDaysChecker", outputs=("date",)
    ),
    TracardiPlugin(
        "conditional_segment",
        _V1 + "segmentation.conditional.plugin",
        "ProfileSegmentAction",
        outputs=("true", "false", "error"),
    ),
    TracardiPlugin(
        "generate_password",
        _V1 + "password_generator_action",
        "PasswordGeneratorAction",
        outputs=("password",),
    ),
)
PLUGINS = (*PLUGINS, *LOGIC_PLUGINS)


# -- connectors with resources (issue 19 items 1-2) ------------------------------------------
# Tracardi names the resource {"id", "name"} under `source` (older plugins) or `resource`; ours
# is the id. A flow imported from Tracardi names Tracardi's resource ids: the editor's picker
# then shows no resource picked until one of ours is chosen. Mailchimp's TransactionalMailSender
# is left out on purpose: its config (a message template resource) has no counterpart in ours,
# so an imported node stays a placeholder.
_C = _V1 + "connectors."


# Config keys that are string templates here where Tracardi takes a dot path.
_TEMPLATED = ("email", "to", "contact", "chat_id")


def _as_template(value: Any) -> Any:
    """ "profile@data.contact.email.main" -> "{{profile@data.contact.email.main}}"."""
    if isinstance(value, str) and "{{" not in value and re.match(r"^[a-z]+@\S+$", value):
        source = value.split("@", 1)[0]
        if source in ("profile", "event", "session", "payload", "flow", "memory"):
            return "{{" + value + "}}"
    return value


def _resource_to_ours(config: dict) -> dict:
    picked = config.pop("source", None) or config.get("resource")
    if isinstance(picked, dict):
        config["resource"] = picked.get("id")
    for key in _TEMPLATED:
        if key in config:
            config[key] = _as_template(config[key])
    return config


def _mautic_contact_to_ours(config: dict) -> dict:
    # The e-mail joins the fields, an object template: it stays a dot path.
    email = config.pop("email", None)
    config = _resource_to_ours(config)
    fields = config.pop("additional_mapping", None)
    config["fields"] = {**({"email": email} if email else {}), **(fields or {})}
    return config


def _ga4_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    config["event_name"] = config.pop("name", "")
    params = config.get("params")
    if isinstance(params, str):
        try:
            config["params"] = json.loads(params or "{}")
        except ValueError as exc:
            raise NotConvertible(f"its params are not JSON ({exc})") from exc
    return config


def _hubspot_get_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    contact = config.pop("contact_id", None)
    if contact is not None:
        config["contact"] = _as_template(str(contact))
        config["id_property"] = "hs_object_id"
    return config


def _activecampaign_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    fields = dict(config.get("fields") or {})
    if "email" in fields:
        config["email"] = _as_template(fields.pop("email"))
    config["fields"] = fields
    return config


def _resource_to_tracardi(config: dict) -> dict:
    picked = config.pop("resource", None)
    return {**config, "source": {"id": picked, "name": ""}}


def _named_resource_to_tracardi(config: dict) -> dict:
    return {**config, "resource": {"id": config.get("resource"), "name": ""}}


def _sendgrid_email_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    message = config.pop("message", None)
    if isinstance(message, dict):
        config.update(
            to=message.get("recipient"),
            subject=message.get("subject"),
            message=message.get("content"),
        )
    return config


def _sendgrid_email_to_tracardi(config: dict) -> dict:
    config = _resource_to_tracardi(config)
    config["message"] = {
        "recipient": config.pop("to", ""),
        "subject": config.pop("subject", ""),
        "content": config.pop("message", ""),
    }
    return config


def _audience_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    if isinstance(config.get("list_id"), dict):
        config["list_id"] = config["list_id"].get("id")
    if "subscribed" in config:
        config["status_if_new"] = "subscribed" if config.pop("subscribed") else "pending"
    return config


def _smtp_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    mail = config.pop("mail", None)
    if isinstance(mail, dict):
        message = mail.get("message")
        content = message.get("content") if isinstance(message, dict) else message
        config.update(
            {
                "from": mail.get("send_from"),
                "to": mail.get("send_to"),
                "subject": mail.get("title"),
                "message": content,
                "html": isinstance(message, dict) and message.get("type") == "text/html",
            }
        )
    return config


def _rabbitmq_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    queue = config.pop("queue", None)
    if isinstance(queue, dict):
        config["routing_key"] = queue.get("routing_key") or queue.get("name")
    return config


# MeaningCloud: Tracardi's language codes are the API's older ones ("sp", "ct"); its
# classification names a model family and a language ("social" + "en" -> SocialMedia_en).
_MEANINGCLOUD_LANGUAGES = {"sp": "es", "ct": "ca"}
_MEANINGCLOUD_MODELS = {"social": "SocialMedia", "press": "IPTC"}


def _meaningcloud_language(config: dict) -> str:
    language = config.pop("language", None) or "en"
    return _MEANINGCLOUD_LANGUAGES.get(language, language)


def _meaningcloud_sentiment_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    config["language"] = _meaningcloud_language(config)
    return config


def _meaningcloud_sentiment_to_tracardi(config: dict) -> dict:
    theirs = {ours: tracardi for tracardi, ours in _MEANINGCLOUD_LANGUAGES.items()}
    language = config.get("language") or "en"
    return _resource_to_tracardi({**config, "language": theirs.get(language, language)})


def _meaningcloud_classification_to_ours(config: dict) -> dict:
    config = _resource_to_ours(config)
    language = _meaningcloud_language(config)
    family = config.get("model") or "social"
    if family not in _MEANINGCLOUD_MODELS:
        raise NotConvertible(f"its model {family!r} is none of {sorted(_MEANINGCLOUD_MODELS)}")
    config["model"] = f"{_MEANINGCLOUD_MODELS[family]}_{language}"
    if config.get("title"):
        config["title"] = _as_template(config["title"])
    return config


def _meaningcloud_classification_to_tracardi(config: dict) -> dict:
    family, _, language = str(config.get("model") or "IPTC_en").partition("_")
    names = {ours: tracardi for tracardi, ours in _MEANINGCLOUD_MODELS.items()}
    theirs = {ours: tracardi for tracardi, ours in _MEANINGCLOUD_LANGUAGES.items()}
    title = config.get("title") or None
    if isinstance(title, str) and title.startswith("{{") and title.endswith("}}"):
        title = title[2:-2]
    return _resource_to_tracardi(
        {
            **config,
            "model": names.get(family, family),
            "language": theirs.get(language, language),
            "title": title,
        }
    )


def _connector(action_id: str, module: str, class_name: str, **extra: Any) -> TracardiPlugin:
    return TracardiPlugin(
        action_id,
        _C + module,
        class_name,
        outputs=extra.pop("outputs", ("response", "error")),
        to_ours=extra.pop("to_ours", _resource_to_ours),
        to_tracardi=extra.pop("to_tracardi", _resource_to_tracardi),
        **extra,
    )


CONNECTOR_PLUGINS: tuple[TracardiPlugin, ...] = (
    _connector("slack_post_message", "slack.send_message.plugin", "SlackPoster"),
    _connector(
        "discord_webhook_post",
        "discord.push.plugin",
        "DiscordWebHookAction",
        to_tracardi=_named_resource_to_tracardi,
    ),
    _connector(
        "telegram_send_message",
        "telegram.post.plugin",
        "TelegramPostAction",
        to_tracardi=_named_resource_to_tracardi,
    ),
    _connector(
        "pushover_push",
        "pushover.push.plugin",
        "PushoverAction",
        outputs=("payload", "error"),
        ports={"payload": "response"},
    ),
    _connector("zapier_webhook", "zapier.webhook.plugin", "ZapierWebHookAction"),
    _connector(
        "sendgrid_send_email",
        "sendgrid.send_email.plugin",
        "SendgridEMailSender",
        keys={"sender_email": "from"},
        to_ours=_sendgrid_email_to_ours,
        to_tracardi=_sendgrid_email_to_tracardi,
    ),
    _connector(
        "sendgrid_add_contact", "sendgrid.add_contact_to_list.plugin", "SendgridContactAdder"
    ),
    _connector("hubspot_create_contact", "hubspot.add_contact.plugin", "HubSpotContactAdder"),
    _connector(
        "hubspot_get_contact",
        "hubspot.get_contact.plugin",
        "HubSpotContactGetter",
        to_ours=_hubspot_get_to_ours,
    ),
    _connector("hubspot_update_contact", "hubspot.update_contact.plugin", "HubSpotContactUpdater"),
    _connector(
        "mailchimp_upsert_member",
        "mailchimp.add_to_audience.plugin",
        "MailChimpAudienceAdder",
        to_ours=_audience_to_ours,
    ),
    _connector(
        "mailchimp_remove_member",
        "mailchimp.remove_from_audience.plugin",
        "MailChimpAudienceRemover",
        to_ours=_audience_to_ours,
    ),
    _connector(
        "mailchimp_tag_member",
        "mailchimp.tag_contact.plugin",
        "MailChimpContactTagger",
        to_ours=_audience_to_ours,
    ),
    # Tracardi's query is plain SQL (MySQL's values in `data`, positional): it imports with
    # no values, which fits a query without placeholders.
    _connector(
        "postgresql_query",
        "postgresql.query.plugin",
        "PostgreSQLConnectorAction",
        outputs=("result", "error"),
        ports={"result": "response"},
    ),
    _connector(
        "mysql_query",
        "mysql.query.plugin",
        "MysqlConnectorAction",
        outputs=("result", "error"),
        ports={"result": "response"},
    ),
    _connector(
        "smtp_send_email",
        "smtp_call.plugin",
        "SmtpDispatcherAction",
        outputs=("payload", "error"),
        ports={"payload": "response"},
        to_ours=_smtp_to_ours,
        to_tracardi=_named_resource_to_tracardi,
    ),
    _connector(
        "rabbitmq_publish",
        "rabbitmq.publish.plugin",
        "RabbitPublisherAction",
        outputs=("payload", "error"),
        ports={"payload": "response"},
        to_ours=_rabbitmq_to_ours,
    ),
    _connector(
        "ga4_send_event",
        "google.analytics_v4.plugin",
        "GoogleAnalyticsV4EventTrackerAction",
        to_ours=_ga4_to_ours,
    ),
    _connector("matomo_track_event", "matomo.send_event.plugin", "SendEventToMatomoAction"),
    _connector(
        "mautic_add_contact",
        "mautic.add_contact.plugin",
        "MauticContactAdder",
        to_ours=_mautic_contact_to_ours,
    ),
    _connector(
        "mautic_segment",
        "mautic.add_remove_segment.plugin",
        "MauticSegmentEditor",
        outputs=("success", "error"),
        ports={"success": "response"},
    ),
    _connector(
        "mautic_points",
        "mautic.edit_points.plugin",
        "MauticPointsEditor",
        outputs=("success", "error"),
        ports={"success": "response"},
    ),
    _connector(
        "activecampaign_sync_contact",
        "active_campaign.add_contact.plugin",
        "SendToActiveCampaignAction",
        to_ours=_activecampaign_to_ours,
        outputs=("success", "error"),
        ports={"success": "response"},
    ),
    _connector(
        "meaningcloud_sentiment",
        "meaningcloud.sentiment_analysis.plugin",
        "SentimentAnalysisAction",
        outputs=("result", "error"),
        to_ours=_meaningcloud_sentiment_to_ours,
        to_tracardi=_meaningcloud_sentiment_to_tracardi,
    ),
    _connector(
        "meaningcloud_classification",
        "meaningcloud.text_classification.plugin",
        "TextClassificationAction",
        outputs=("payload", "error"),
        ports={"payload": "result"},
        to_ours=_meaningcloud_classification_to_ours,
        to_tracardi=_meaningcloud_classification_to_tracardi,
    ),
)
PLUGINS = PLUGINS + CONNECTOR_PLUGINS
# ----------------------------------------------------------------------------------------------

_BY_PATH = MappingProxyType({(p.module, p.class_name): p for p in PLUGINS})
_BY_MODULE = MappingProxyType({p.module: p for p in PLUGINS if p.any_class})
_BY_ACTION = MappingProxyType({p.action_id: p for p in PLUGINS})
assert len(_BY_PATH) == len(PLUGINS) == len(_BY_ACTION), "a Tracardi plugin is listed twice"


def tracardi_plugin(module: Any, class_name: Any) -> TracardiPlugin | None:
    """The entry for a Tracardi node's (module, className), or None."""
    return _BY_PATH.get((module, class_name)) or _BY_MODULE.get(module)


def tracardi_plugin_for_action(action_id: str) -> TracardiPlugin | None:
    """The Tracardi plugin an exported node of this action becomes, or None."""
    return _BY_ACTION.get(action_id)
