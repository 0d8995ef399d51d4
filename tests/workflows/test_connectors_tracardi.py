"""Tracardi's connector plugins map onto our connector actions: names, ports and the resource
(Tracardi's {"id", "name"} under `source` or `resource`; ours the id)."""

import pytest

from apps.workflows.actions import action_by_id, action_class_for
from apps.workflows.actions.tracardi_names import NotConvertible, tracardi_plugin

C = "tracardi.process_engine.action.v1.connectors."


def _known(action_id):
    return set(action_by_id(action_id).config_schema["properties"])


def test_slack_poster_runs_as_post_to_channel_with_the_resource_id():
    spec = {"module": C + "slack.send_message.plugin", "className": "SlackPoster"}
    plugin = tracardi_plugin(spec["module"], spec["className"])

    assert action_class_for(spec) is action_by_id("slack_post_message")
    init = {"source": {"id": "r-1", "name": "Slack"}, "channel": "#a", "message": "Hi"}
    ours = plugin.config_to_ours(init, _known("slack_post_message"))
    assert ours == {"resource": "r-1", "channel": "#a", "message": "Hi"}
    assert plugin.config_to_tracardi(ours) == {
        "source": {"id": "r-1", "name": ""},
        "channel": "#a",
        "message": "Hi",
    }


def test_discord_keeps_tracardis_resource_key():
    plugin = tracardi_plugin(C + "discord.push.plugin", "DiscordWebHookAction")
    init = {"resource": {"id": "r-2", "name": "D"}, "timeout": 10, "message": "m", "username": ""}

    ours = plugin.config_to_ours(init, _known("discord_webhook_post"))

    assert ours == {"resource": "r-2", "timeout": 10, "message": "m", "username": ""}
    assert plugin.config_to_tracardi(ours)["resource"] == {"id": "r-2", "name": ""}


def test_sendgrid_message_object_and_pushover_port():
    sendgrid = tracardi_plugin(C + "sendgrid.send_email.plugin", "SendgridEMailSender")
    init = {
        "source": {"id": "r-3", "name": ""},
        "sender_email": "shop@example.com",
        "message": {"recipient": "profile@data.contact.email.main", "subject": "S", "content": "B"},
    }
    assert sendgrid.config_to_ours(init, _known("sendgrid_send_email")) == {
        "resource": "r-3",
        "from": "shop@example.com",
        "to": "profile@data.contact.email.main",
        "subject": "S",
        "message": "B",
    }
    pushover = tracardi_plugin(C + "pushover.push.plugin", "PushoverAction")
    assert pushover.our_port("payload") == "response"
    assert pushover.tracardi_port("response") == "payload"


def test_mailchimp_audience_list_and_subscription():
    plugin = tracardi_plugin(C + "mailchimp.add_to_audience.plugin", "MailChimpAudienceAdder")
    init = {
        "source": {"id": "r-4", "name": None},
        "list_id": {"id": "a1b2c3", "name": "Newsletter"},
        "email": "profile@data.contact.email.main",
        "merge_fields": {},
        "subscribed": False,
        "update": False,
    }

    assert plugin.config_to_ours(init, _known("mailchimp_upsert_member")) == {
        "resource": "r-4",
        "list_id": "a1b2c3",
        # Tracardi takes a dot path where ours is a string template.
        "email": "{{profile@data.contact.email.main}}",
        "merge_fields": {},
        "status_if_new": "pending",
    }


def test_meaningcloud_sentiment_maps_tracardis_language_codes():
    spec = {
        "module": C + "meaningcloud.sentiment_analysis.plugin",
        "className": "SentimentAnalysisAction",
    }
    plugin = tracardi_plugin(spec["module"], spec["className"])
    init = {"source": {"id": "r-9", "name": "MC"}, "language": "sp", "text": "{{payload@txt}}"}

    ours = plugin.config_to_ours(init, _known("meaningcloud_sentiment"))

    assert action_class_for(spec) is action_by_id("meaningcloud_sentiment")
    assert ours == {"resource": "r-9", "language": "es", "text": "{{payload@txt}}"}
    assert plugin.config_to_tracardi(ours) == {
        "source": {"id": "r-9", "name": ""},
        "language": "sp",
        "text": "{{payload@txt}}",
    }
    assert plugin.our_port("result") == "result"


def test_meaningcloud_classification_model_title_and_port():
    plugin = tracardi_plugin(
        C + "meaningcloud.text_classification.plugin", "TextClassificationAction"
    )
    init = {
        "source": {"id": "r-9", "name": "MC"},
        "language": "en",
        "model": "press",
        "title": "event@properties.subject",
        "text": "{{event@properties.body}}",
    }

    ours = plugin.config_to_ours(init, _known("meaningcloud_classification"))

    assert ours == {
        "resource": "r-9",
        "model": "IPTC_en",
        "title": "{{event@properties.subject}}",
        "text": "{{event@properties.body}}",
    }
    assert plugin.config_to_tracardi(ours) == {
        "source": {"id": "r-9", "name": ""},
        "model": "press",
        "language": "en",
        "title": "event@properties.subject",
        "text": "{{event@properties.body}}",
    }
    assert plugin.our_port("payload") == "result"
    assert plugin.tracardi_port("result") == "payload"


def test_meaningcloud_classification_of_an_unknown_model_is_not_converted():
    plugin = tracardi_plugin(
        C + "meaningcloud.text_classification.plugin", "TextClassificationAction"
    )
    init = {"source": {"id": "r-9", "name": "MC"}, "model": "legal", "text": "t"}

    with pytest.raises(NotConvertible, match=r"its model 'legal' is none of \['press', 'social'\]"):
        plugin.config_to_ours(init, _known("meaningcloud_classification"))
