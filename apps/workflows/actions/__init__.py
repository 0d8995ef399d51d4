"""The registry of workflow actions, one module per family.

A node names its action by `data.spec.module` and `data.spec.className` (Tracardi's shape).
Nodes of Tracardi's plugins resolve through the table in `tracardi_names` (Tracardi's module
path and class name, e.g. CopyTraitAction for Copy data); a class name of ours resolves under
any module path that is not Tracardi's.
"""

from __future__ import annotations

from apps.workflows.actions import (
    agent,
    calculator,
    consents,
    counters,
    data,
    dates,
    entities,
    events,
    flow,
    geoip,
    http,
    ids,
    interests,
    language,
    lists,
    memory,
    merging,
    privacy,
    response,
    segments,
    text,
    ux_content,
    ux_popups,
)
from apps.workflows.actions.base import Action
from apps.workflows.actions.logic_catalogue import LOGIC_ACTIONS
from apps.workflows.actions.tracardi_names import PLUGINS, tracardi_plugin

ACTIONS: tuple[type[Action], ...] = (
    flow.StartAction,
    flow.EndAction,
    flow.IfAction,
    flow.ConditionSetAction,
    flow.LogMessageAction,
    flow.ThrowErrorAction,
    response.CreateResponseAction,
    data.CopyDataAction,
    data.DeleteDataAction,
    data.AppendRemoveAction,
    data.SetDataAction,
    data.StringTemplateAction,
    segments.AddSegmentAction,
    segments.RemoveSegmentAction,
    segments.AddSegmentIfAction,
    interests.IncreaseInterestAction,
    interests.DecreaseInterestAction,
    interests.ResetInterestAction,
    counters.IncrementCounterAction,
    counters.DecrementCounterAction,
    consents.AddConsentAction,
    consents.HasConsentAction,
    events.InjectEventAction,
    merging.MergeProfilesAction,
    http.RemoteCallAction,
    text.ParseUrlAction,
    text.SplitStringAction,
    text.RegexMatchAction,
    text.RegexReplaceAction,
    privacy.HashDataAction,
    privacy.MaskDataAction,
    agent.DetectClientAgentAction,
    ids.GenerateUuidAction,
    calculator.CalculatorAction,
    lists.SortListAction,
    lists.ReduceListAction,
    dates.DayNightAction,
    dates.WeekdayAction,
    dates.TimeDifferenceAction,
    ux_popups.ConsentBarAction,
    ux_popups.QuestionPopupAction,
    ux_popups.RatingPopupAction,
    ux_popups.ContactFormPopupAction,
    ux_content.CallToActionAction,
    ux_content.HtmlTagAction,
    # Entities and memory (issue 23).
    entities.UpsertEntityAction,
    entities.LoadEntityAction,
    entities.DeleteEntityAction,
    memory.WriteMemoryAction,
    memory.ReadMemoryAction,
    memory.MemoryCollectorAction,
    language.DetectLanguageAction,
    # Geo location (issue 23 item 5).
    geoip.GeoIpAction,
    # The pure-logic actions (issue 19 item 3).
    *LOGIC_ACTIONS,
)

_BY_ID = {action.id: action for action in ACTIONS}
_BY_PATH: dict[tuple[str, str], type[Action]] = {}
for _action in ACTIONS:
    _BY_PATH[(_action.module_path(), _action.__name__)] = _action
_BY_CLASS_NAME = {action.__name__: action for action in ACTIONS}
assert len(_BY_ID) == len(ACTIONS), "two actions share an id"
assert len(_BY_CLASS_NAME) == len(ACTIONS), "two actions share a class name"
assert all(plugin.action_id in _BY_ID for plugin in PLUGINS), "a Tracardi name of no action"

TRACARDI_PREFIX = "tracardi."
# Graphs saved before the table named four Tracardi modules with our class names.
for _plugin in PLUGINS:
    _BY_PATH.setdefault(
        (_plugin.module, _BY_ID[_plugin.action_id].__name__), _BY_ID[_plugin.action_id]
    )


def action_class_for(spec: dict) -> type[Action] | None:
    module, class_name = spec.get("module"), spec.get("className")
    if not isinstance(class_name, str):
        return None
    plugin = tracardi_plugin(module, class_name)
    if plugin is not None:
        return _BY_ID[plugin.action_id]
    if isinstance(module, str) and module.startswith(TRACARDI_PREFIX):
        # A Tracardi plugin we do not have, whatever its class is called.
        return _BY_PATH.get((module, class_name))
    return _BY_PATH.get((module, class_name)) or _BY_CLASS_NAME.get(class_name)


# The actions that call other systems (a replay runs them, and sends, again).
CONNECTORS_GROUP = "Connectors"


def action_by_id(action_id: str) -> type[Action]:
    return _BY_ID[action_id]


def actions_by_group() -> dict[str, list[type[Action]]]:
    groups: dict[str, list[type[Action]]] = {}
    for action in ACTIONS:
        groups.setdefault(action.group, []).append(action)
    return groups
