from apps.core.exceptions import ApiError


def query_invalid(parameter: str, message: str) -> ApiError:
    """400 for a query-string parameter, in the shape of every validation error."""
    return ApiError([{"loc": ["query", parameter], "msg": message, "type": "value_error"}])
