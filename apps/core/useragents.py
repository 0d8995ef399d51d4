"""Device, OS and browser of a client, parsed from its user agent (the ua-parser database
through the user-agents package)."""

from dataclasses import dataclass
from functools import lru_cache

from user_agents import parse as parse_user_agent


@dataclass(frozen=True, slots=True)
class ClientAgent:
    device: dict
    os: dict
    app: dict
    is_bot: bool


# Parsing a user agent costs about a millisecond and a site sees few distinct ones.
@lru_cache(maxsize=4096)
def client_agent(user_agent: str) -> ClientAgent:
    parsed = parse_user_agent(user_agent or "")
    if parsed.is_bot:
        device_type = "bot"
    elif parsed.is_tablet:
        device_type = "tablet"
    elif parsed.is_mobile:
        device_type = "mobile"
    elif parsed.is_pc:
        device_type = "pc"
    else:
        device_type = "other"
    return ClientAgent(
        device={
            "type": device_type,
            "name": parsed.device.family,
            "brand": parsed.device.brand,
            "model": parsed.device.model,
            "touch": parsed.is_touch_capable,
        },
        os={"name": parsed.os.family, "version": parsed.os.version_string},
        app={
            "type": "browser",
            "name": parsed.browser.family,
            "version": parsed.browser.version_string,
            "bot": parsed.is_bot,
        },
        is_bot=parsed.is_bot,
    )
