"""``GET /openapi.json``: the OpenAPI description of guard's own routes matches the routes and what they send."""

from __future__ import annotations

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from starlette.routing import Route

from guard.adapters.server.app import create_app


def description(proxy) -> dict:
    reply = httpx.get(proxy.url + "/openapi.json")
    assert reply.status_code == 200
    return reply.json()


def validator(document: dict, schema: dict) -> Draft202012Validator:
    registry = Registry().with_resource("guard", Resource.opaque(document))
    return Draft202012Validator({"$ref": "guard" + schema["$ref"]} if "$ref" in schema else schema, registry=registry)


def test_every_route_the_server_answers_is_described_with_its_methods(proxy):
    document = description(proxy)
    app = create_app(proxy.guard, proxy.guard.config)

    served = {(r.path, m.lower()) for r in app.routes if isinstance(r, Route) and r.path != "/openapi.json"
              for m in r.methods - {"HEAD"}}

    assert served == {(path, method) for path, item in document["paths"].items() for method in item}


def test_the_description_is_openapi_3_1_with_valid_schemas(proxy):
    document = description(proxy)

    assert document["openapi"] == "3.1.0"
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_a_check_reply_and_an_error_match_their_described_schemas(proxy):
    document = description(proxy)
    operation = document["paths"]["/v1/check"]["post"]

    verdict = httpx.post(proxy.url + "/v1/check", json={"response": "Thirty days.", "sources": ["Thirty days."]})
    refused = httpx.post(proxy.url + "/v1/check", json={"response": "Thirty days."})

    for reply in (verdict, refused):
        schema = operation["responses"][str(reply.status_code)]["content"]["application/json"]["schema"]
        validator(document, schema).validate(reply.json())


def test_every_reference_names_a_described_schema(proxy):
    document = description(proxy)

    refs = set(references(document))

    assert refs
    assert {ref.rsplit("/", 1)[1] for ref in refs} <= set(document["components"]["schemas"])


def references(node: object):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)
