"""The registry of workflow actions, one module per family.

A node names its action by `data.spec.module` and `data.spec.className` (Tracardi's shape).
Nodes of Tracardi's plugins resolve through the table in `tracardi_names` (Tracardi's module
path and class name, e.g. CopyTraitAction for Copy data); a class name of ours resolves under
any module path that is not Tracardi's.

Other packages add actions through the entry-point group `cdp.actions` (docs/plugins.md): they
join the registry at start (`plugin_actions_load`, from WorkflowsConfig.ready and on first use),
after a check that their ids and class names clash with nothing and their config schema is valid
JSON Schema. `ACTIONS` is the built-in ones; `all_actions()` adds the plugins.
"""

from __future__ import annotations

from apps.core.plugins import ACTIONS_GROUP, PluginOrigin, plugins_load
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
    reports,
    response,
    segments,
    text,
    ux_content,
    ux_popups,
    waiting,
)
from apps.workflows.actions.base import Action

# -- connectors with resources (issue 19 items 1-2) ------------------------------------------
from apps.workflows.actions.connectors import analytics as connectors_analytics
from apps.workflows.actions.connectors import chat as connectors_chat
from apps.workflows.actions.connectors import crm as connectors_crm
from apps.workflows.actions.connectors import email as connectors_email
from apps.workflows.actions.connectors import meaningcloud as connectors_meaningcloud
from apps.workflows.actions.connectors import senders as connectors_senders
from apps.workflows.actions.connectors import sql as connectors_sql
from apps.workflows.actions.logic_catalogue import LOGIC_ACTIONS
from apps.workflows.actions.plugins import plugin_action_check

# ------------------------------------------------------------------------------------------
from apps.workflows.actions.tracardi_names import PLUGINS, tracardi_plugin

ACTIONS: tuple[type[Action], ...] = (
    flow.StartAction,
    flow.EndAction,
    flow.IfAction,
    flow.ConditionSetAction,
    flow.LogMessageAction,
    flow.ThrowErrorAction,
    waiting.WaitAction,
    waiting.WaitForEventAction,
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
    # -- connectors with resources (issue 19 items 1-2), next to the remote call (one family) --
    connectors_chat.SlackWebhookAction,
    connectors_chat.SlackPostMessageAction,
    connectors_chat.DiscordWebhookAction,
    connectors_chat.TelegramSendMessageAction,
    connectors_chat.PushoverPushAction,
    connectors_chat.ZapierWebhookAction,
    connectors_chat.TwilioSmsAction,
    connectors_email.SendgridSendEmailAction,
    connectors_email.SendgridAddContactAction,
    connectors_email.BrevoSendEmailAction,
    connectors_email.MandrillSendEmailAction,
    connectors_email.MailchimpUpsertMemberAction,
    connectors_email.MailchimpRemoveMemberAction,
    connectors_email.MailchimpTagMemberAction,
    connectors_email.HubspotCreateContactAction,
    connectors_email.HubspotUpdateContactAction,
    connectors_email.HubspotGetContactAction,
    connectors_crm.MauticAddContactAction,
    connectors_crm.MauticSegmentAction,
    connectors_crm.MauticPointsAction,
    connectors_crm.ActiveCampaignSyncContactAction,
    connectors_analytics.Ga4EventAction,
    connectors_analytics.MatomoEventAction,
    connectors_sql.PostgresqlQueryAction,
    connectors_sql.MysqlQueryAction,
    connectors_senders.SmtpSendEmailAction,
    connectors_senders.RabbitMqPublishAction,
    connectors_senders.KafkaPublishAction,
    # ----------------------------------------------------------------------------------------
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
    # Reports (issue 23 item 6).
    reports.LoadReportAction,
    language.DetectLanguageAction,
    connectors_meaningcloud.MeaningCloudSentimentAction,
    connectors_meaningcloud.MeaningCloudClassificationAction,
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


# Plugin actions, by id, with where they come from (filled by plugin_actions_load).
_PLUGIN_ORIGINS: dict[str, PluginOrigin] = {}
_plugins_loaded = False


def plugin_actions_load() -> None:
    """(Re)load the actions of installed plugins: those of the last load leave the registry,
    then each entry point of `cdp.actions` that passes the check joins it."""
    global _plugins_loaded
    # Set first: a plugin module that looks an action up while it loads must not recurse.
    _plugins_loaded = True
    for action_id in list(_PLUGIN_ORIGINS):
        action = _BY_ID.pop(action_id)
        _BY_PATH.pop((action.module_path(), action.__name__), None)
        _BY_CLASS_NAME.pop(action.__name__, None)
        del _PLUGIN_ORIGINS[action_id]

    def check(name: str, obj: object) -> None:
        taken_ids = {key: _owner(action_id=key, action=action) for key, action in _BY_ID.items()}
        taken_names = {
            key: _owner(action_id=action.id, action=action)
            for key, action in _BY_CLASS_NAME.items()
        }
        plugin_action_check(obj, taken_ids=taken_ids, taken_class_names=taken_names)

    for plugin in plugins_load(ACTIONS_GROUP, check):
        action = plugin.obj
        _BY_ID[action.id] = action
        _BY_PATH[(action.module_path(), action.__name__)] = action
        _BY_CLASS_NAME[action.__name__] = action
        _PLUGIN_ORIGINS[action.id] = plugin.origin


def _owner(*, action_id: str, action: type[Action]) -> str:
    origin = _PLUGIN_ORIGINS.get(action_id)
    if origin is None:
        return f"the built-in action {action.name}"
    return f"{action.name} of package {origin.package}"


def plugin_actions_ensure() -> None:
    """Load the plugins once per process (at start, or on the first lookup if that comes
    first: the admin builds its pages before the workflows app is ready)."""
    if not _plugins_loaded:
        plugin_actions_load()


def plugin_origin(action: type[Action]) -> PluginOrigin | None:
    """The package an action comes from, or None for a built-in one."""
    plugin_actions_ensure()
    origin = _PLUGIN_ORIGINS.get(action.id)
    return origin if origin is not None and _BY_ID.get(action.id) is action else None


def all_actions() -> list[type[Action]]:
    """The built-in actions, then those of plugins."""
    plugin_actions_ensure()
    return [*ACTIONS, *(_BY_ID[action_id] for action_id in _PLUGIN_ORIGINS)]


def action_class_for(spec: dict) -> type[Action] | None:
    plugin_actions_ensure()
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
    plugin_actions_ensure()
    return _BY_ID[action_id]


def actions_by_group() -> dict[str, list[type[Action]]]:
    groups: dict[str, list[type[Action]]] = {}
    for action in all_actions():
        groups.setdefault(action.group, []).append(action)
    return groups
