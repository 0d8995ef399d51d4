"""OpenAPI additions: the API key scheme, and the public tracking endpoints (whose views stay
free of schema code) with their request and answer shapes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema

from apps.api.examples import EXAMPLES
from apps.tracking.payload import TRACKER_PAYLOAD_SCHEMA

ERROR = {
    "type": "object",
    "properties": {
        "detail": {
            "description": "A sentence, or for invalid input one entry per field path.",
            "oneOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                },
            ],
        }
    },
    "required": ["detail"],
}
TRACK_ANSWER = {
    "type": ["object", "null"],
    "description": "null when the request had no events.",
    "properties": {
        "task": {"type": "string"},
        "ux": {"type": "array", "items": {"type": "object"}},
        "response": {"type": "object"},
        "events": {"type": "array"},
        "profile": {"type": "object", "properties": {"id": {"type": ["string", "null"]}}},
        "session": {"type": "object", "properties": {"id": {"type": ["string", "null"]}}},
        "errors": {"type": "array"},
        "warnings": {"type": "array"},
    },
}
_TRACKING_ERRORS = {
    400: OpenApiResponse(ERROR, description="The body is not JSON."),
    401: OpenApiResponse(ERROR, description="Unknown or disabled event source."),
    413: OpenApiResponse(ERROR, description="The body is over the size limit."),
    422: OpenApiResponse(ERROR, description="The body breaks the contract (field path)."),
    429: OpenApiResponse(ERROR, description="Over the source's rate limit (Retry-After)."),
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from the admin (System → API keys) or "
            "`manage.py create_api_key`.",
        }


class TrackViewSchema(OpenApiViewExtension):
    target_class = "apps.tracking.views.TrackView"

    def view_replacement(self):
        class Schema(self.target_class):
            @extend_schema(
                summary="Track events (Tracardi-compatible)",
                tags=["tracking"],
                auth=[],
                request={"application/json": TRACKER_PAYLOAD_SCHEMA},
                responses={200: OpenApiResponse(TRACK_ANSWER), **_TRACKING_ERRORS},
                examples=[
                    OpenApiExample(
                        "A page view",
                        request_only=True,
                        value={
                            "source": {"id": "<event source id>"},
                            "session": {"id": "<session id>"},
                            "events": [{"type": "page-view", "properties": {"title": "Home"}}],
                        },
                    )
                ],
            )
            def post(self, request):
                return super().post(request)

        return Schema


class CollectViewSchema(OpenApiViewExtension):
    target_class = "apps.tracking.views.CollectView"

    def view_replacement(self):
        decorate = extend_schema(
            summary="Collect one event from a webhook (Tracardi-compatible)",
            tags=["tracking"],
            auth=[],
            request={"application/json": {"type": "object"}},
            responses={200: OpenApiResponse(TRACK_ANSWER), **_TRACKING_ERRORS},
        )

        class Schema(self.target_class):
            @decorate
            def get(self, request, *args, **kwargs):
                return super().get(request, *args, **kwargs)

            @decorate
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Schema


class RedirectViewSchema(OpenApiViewExtension):
    target_class = "apps.tracking.views.RedirectView"

    def view_replacement(self):
        responses = {
            307: OpenApiResponse(description="To the link's URL."),
            404: OpenApiResponse(ERROR, description="No such link."),
            **_TRACKING_ERRORS,
        }
        summary = "Follow a tracked link: store its event, then 307 to its URL"
        with_body = extend_schema(
            summary=f"{summary} (the body is payload.body for the link's props)",
            tags=["tracking"],
            auth=[],
            request={
                "application/json": {"type": "object"},
                "application/x-www-form-urlencoded": {"type": "object"},
            },
            responses=responses,
        )

        class Schema(self.target_class):
            @extend_schema(summary=summary, tags=["tracking"], auth=[], responses=responses)
            def get(self, request, *args, **kwargs):
                return super().get(request, *args, **kwargs)

            @with_body
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

            @with_body
            def put(self, request, *args, **kwargs):
                return super().put(request, *args, **kwargs)

            @with_body
            def delete(self, request, *args, **kwargs):
                return super().delete(request, *args, **kwargs)

        return Schema


UNDOCUMENTED = ("/track/", "/api/schema/")


def drop_aliases(endpoints):
    """Preprocessing hook: `/track/` is an alias of `/track`, documented once; the schema
    does not describe itself."""
    return [endpoint for endpoint in endpoints if endpoint[0] not in UNDOCUMENTED]


# The error answers every management API operation can give, documented once here.
_API_ERRORS = {
    "400": "Invalid input: `detail` names each field path.",
    "401": "No API key, or one that is wrong, revoked or expired (`detail` says which).",
    "403": "The API key lacks the scope (`detail` names it).",
    "404": "No such object.",
    "429": "Over the key's rate limit (Retry-After).",
}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: every /api/v1/ operation documents its error answers; a nullable
    JSON field is "any value" (drf-spectacular writes oneOf [{}, null], which a null
    matches twice, so no null fits it)."""
    _any_value_unwrap(result.get("components", {}).get("schemas", {}))
    _examples_add(result.get("paths", {}))
    error_ref = {"$ref": "#/components/schemas/Error"}
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in _API_ERRORS.items():
                if path == "/api/v1/health" and status in ("401", "403", "429"):
                    continue
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": error_ref}},
                    },
                )
    return result


def _any_value_unwrap(node) -> None:
    if isinstance(node, dict):
        one_of = node.get("oneOf")
        if isinstance(one_of, list) and {} in one_of:
            del node["oneOf"]
        for value in node.values():
            _any_value_unwrap(value)
    elif isinstance(node, list):
        for value in node:
            _any_value_unwrap(value)


def _examples_add(paths: dict) -> None:
    for (method, path), example in EXAMPLES.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        if "request" in example:
            for content in operation.get("requestBody", {}).get("content", {}).values():
                content["examples"] = {"example": {"value": example["request"]}}
        if "response" in example:
            status, body = example["response"]
            response = operation.get("responses", {}).get(status, {})
            for content in response.get("content", {}).values():
                content["examples"] = {"example": {"value": body}}
