"""Session enrichment from the request: utm from the context (the user agent is parsed by
apps.core.useragents)."""

UTM_KEYS = ("source", "medium", "campaign", "term", "content")


def utm_from_context(context: dict) -> dict:
    utm = context.get("utm")
    if not isinstance(utm, dict):
        return {}
    return {key: utm[key] for key in UTM_KEYS if utm.get(key) not in (None, "")}
