"""``GET /openapi.json``: the OpenAPI 3.1 description of guard's own routes, from the models that validate them.

Request bodies are the schemas the routes validate with, replies the models
they serialise, so the description cannot drift from the code. The
OpenAI-compatible replies (chat completions, Responses) are OpenAI's objects
with ``guard`` added: described as such, not copied from OpenAI's document.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from guard.adapters.server.schemas import ChatRequest, CheckBody, DecisionBody, FeedbackBody
from guard.metadata import GuardMetadata
from guard.responses_api.request import ResponsesRequest
from guard.store import FeedbackRecord, RequestRecord, ReviewItem

_REQUESTS: list[type[BaseModel]] = [ChatRequest, ResponsesRequest, CheckBody, FeedbackBody, DecisionBody]
_REPLIES: list[type[BaseModel]] = [GuardMetadata, FeedbackRecord, RequestRecord, ReviewItem]
_OPENAI = "https://platform.openai.com/docs/api-reference"


@cache
def openapi_description() -> dict[str, Any]:
    _, defs = models_json_schema([(m, "validation") for m in _REQUESTS] + [(m, "serialization") for m in _REPLIES],
                                 ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = {**defs.get("$defs", {}), **_OWN_SCHEMAS}
    return {
        "openapi": "3.1.0",
        "info": {"title": "guard", "version": _version(),
                 "description": "guard's proxy: OpenAI's chat completions and Responses APIs with a verdict "
                                "(`guard`) on every answer, and guard's own routes for checks, feedback and review."},
        "servers": [{"url": "/"}],
        "components": {"schemas": schemas, "securitySchemes": {"apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "An app key from server.keys (an admin key for the review routes); none on an open "
                           "loopback server."}}},
        "security": [{"apiKey": []}],
        "paths": _PATHS,
    }


def _version() -> str:
    try:
        return version("guard-llm")
    except PackageNotFoundError:
        return "0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _operation(summary: str, reply: dict[str, Any], *, body: str | None = None, tag: str = "guard",
               parameters: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {"200": reply, **_ERRORS}}
    if body is not None:
        operation["requestBody"] = _body(body)
    if parameters:
        operation["parameters"] = parameters
    return {**operation, **more}


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


_OWN_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["message", "type"], "properties": {
            "message": {"type": "string"}, "type": {"type": "string"},
            "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}},
    "GuardedChatCompletion": {
        "type": "object", "required": ["guard"], "additionalProperties": True,
        "description": f"OpenAI's chat completion object ({_OPENAI}/chat/object) with `guard` added.",
        "properties": {"guard": _ref("GuardMetadata")}},
    "GuardedResponse": {
        "type": "object", "required": ["guard"], "additionalProperties": True,
        "description": f"OpenAI's Response object ({_OPENAI}/responses/object) with `guard` added. Streamed "
                       "(`stream: true`), OpenAI's events as server-sent events, then a last `guard.verdict` event "
                       "carrying `guard`.",
        "properties": {"guard": _ref("GuardMetadata")}},
    "GuardRequest": {
        "type": "object", "required": ["object", "request_id", "status"],
        "description": "What became of one answer; `record` and `review` for an admin key only.",
        "properties": {
            "object": {"const": "guard.request"}, "request_id": {"type": "string"},
            "status": {"enum": ["delivered", "failed", "pending", "approved", "edited", "rejected", "expired"]},
            "answer": {"type": ["string", "null"]}, "decided_at": {"type": ["string", "null"], "format": "date-time"},
            "record": {"anyOf": [_ref("RequestRecord"), {"type": "null"}]},
            "review": {"anyOf": [_ref("ReviewItem"), {"type": "null"}]}}},
    "ReviewList": {"type": "object", "required": ["object", "data"], "properties": {
        "object": {"const": "list"}, "data": {"type": "array", "items": _ref("ReviewItem")}}},
}

_ERRORS: dict[str, Any] = {
    status: _json(_ref("Error"), text) for status, text in {
        "400": "The request cannot be served as sent (the field is in error.param).",
        "401": "No valid key.", "404": "Not found.", "429": "A key's rate or spend limit.",
        "502": "The upstream model failed."}.items()}

_PATHS: dict[str, Any] = {
    "/v1/chat/completions": {"post": _operation(
        "OpenAI's chat completions, guarded", _json(_ref("GuardedChatCompletion")), body="ChatRequest",
        tag="openai", externalDocs={"url": f"{_OPENAI}/chat/create"})},
    "/v1/responses": {"post": _operation(
        "OpenAI's Responses API, bridged to the guarded chat pipeline", _json(_ref("GuardedResponse")),
        body="ResponsesRequest", tag="openai", externalDocs={"url": f"{_OPENAI}/responses/create"})},
    "/v1/embeddings": {"post": _operation(
        "OpenAI's embeddings (the knowledge base's model answered by guard, others by their provider)",
        _json({"type": "object", "description": f"OpenAI's embeddings list ({_OPENAI}/embeddings/object)."}),
        tag="openai", externalDocs={"url": f"{_OPENAI}/embeddings/create"})},
    "/v1/models": {"get": _operation(
        "The model names this server accepts", _json({"type": "object", "description": "OpenAI's model list."}),
        tag="openai", externalDocs={"url": f"{_OPENAI}/models/list"})},
    "/v1/check": {"post": _operation(
        "Guard's verdict on an answer made elsewhere, against sources or a configured knowledge base; recorded "
        "and routed to review like a served answer", _json(_ref("GuardMetadata")), body="CheckBody")},
    "/v1/feedback": {"post": _operation(
        "What the user thought of an answer and what was really sent", _json(_ref("FeedbackRecord")),
        body="FeedbackBody")},
    "/v1/requests/{request_id}": {"get": _operation(
        "What became of an answer (a held one: as decided)", _json(_ref("GuardRequest")),
        parameters=[_path_parameter("request_id")])},
    "/v1/reviews": {"get": _operation(
        "The review queue (admin key)", _json(_ref("ReviewList")), tag="review", parameters=[
            _query("status", {"enum": ["pending", "approved", "edited", "rejected", "expired"]}),
            _query("tier", {"type": "string"}), _query("policy", {"enum": ["flag", "block"]}),
            _query("model", {"type": "string"}), _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
            _query("offset", {"type": "integer", "minimum": 0})])},
    "/v1/reviews/{review_id}": {"get": _operation(
        "One review item (admin key)", _json(_ref("ReviewItem")), tag="review",
        parameters=[_path_parameter("review_id")])},
    "/v1/reviews/{review_id}/{action}": {"post": _operation(
        "Decide a review item: approve, edit (with final_text) or reject (with reason); admin key",
        _json(_ref("ReviewItem")), body="DecisionBody", tag="review", parameters=[
            _path_parameter("review_id"),
            {"name": "action", "in": "path", "required": True, "schema": {"enum": ["approve", "edit", "reject"]}}])},
    "/metrics": {"get": {"summary": "Prometheus metrics (admin key)", "tags": ["operations"], "responses": {
        "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}, **_ERRORS}}},
    "/healthz": {"get": {"summary": "The process is up", "tags": ["operations"], "security": [],
                         "responses": {"200": _json({"type": "object"})}}},
    "/readyz": {"get": {"summary": "The store answers and the models are warm", "tags": ["operations"],
                        "security": [], "responses": {"200": _json({"type": "object"}),
                                                      "503": _json({"type": "object"}, "Not ready")}}},
}
