"""The query endpoints: the JSON DSL, the templates (and the seed's aliases)."""

from __future__ import annotations

import msgspec
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from streamgauge.api.context import ApiContext
from streamgauge.errors import NotFound
from streamgauge.http.errors import json_response
from streamgauge.query import ALIASES, list_templates, run_query, run_template
from streamgauge.query.templates import REGISTRY


def register(app: FastAPI, api: ApiContext) -> None:
    async def query(request: Request) -> Response:
        return await api.answer(
            request, lambda cur, who, body: run_query(cur, who, body, relation_for=api.relation_for)
        )

    async def templates(request: Request) -> Response:
        api.principal(request)
        return json_response(msgspec.to_builtins(list_templates()))

    async def template(request: Request) -> Response:
        return await _run_template(request, request.path_params["name"])

    async def _run_template(request: Request, name: str) -> Response:
        api.principal(request)  # a missing key is a 401 before an unknown name is a 404
        if name not in REGISTRY:
            raise NotFound(f"no template named {name!r}; GET /templates lists them")
        return await api.answer(
            request,
            lambda cur, who, body: run_template(
                cur, who, name, body, relation_for=api.relation_for
            ),
        )

    app.add_route("/query", query, methods=["POST"])
    app.add_route("/templates", templates, methods=["GET"])
    app.add_route("/templates/{name}", template, methods=["POST"])
    for alias, name in ALIASES.items():

        async def aliased(request: Request, name: str = name) -> Response:
            return await _run_template(request, name)

        app.add_route(alias, aliased, methods=["POST"])
