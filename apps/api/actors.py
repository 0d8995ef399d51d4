from apps.api.authentication import KeyHolder


def request_actor(request) -> str:
    """Who did it, for records that name their actor (merges, erasures, edits)."""
    user = request.user
    if isinstance(user, KeyHolder):
        return f"API key {user.key.name} ({user.key.prefix})"
    return user.get_username()
