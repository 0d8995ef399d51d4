import uuid


def new_id() -> str:
    """Ids are strings: Tracardi ids are UUIDs, but sources and static profile ids may be any."""
    return str(uuid.uuid4())
