"""The one ``NinjaAPI`` behind ``/api/v2``, assembled from the router registry."""

import importlib
import json
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from .auth import api_auth
from .errors import install_handlers
from .routers import ROUTERS


class Renderer(JSONRenderer):
    """UTF-8 JSON without ``\\u`` escapes (中文 stays readable and shorter)."""

    json_dumps_params = {"ensure_ascii": False}


def _check_text(value: Any) -> None:
    """NUL characters and lone surrogates are valid JSON but no database stores them."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        value.encode("utf-8")  # UnicodeEncodeError (a ValueError) on lone surrogates
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class StrictJsonParser(Parser):
    """JSON bodies that can be stored: otherwise 400 ``InvalidJSON``, never a 500."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        _check_text(data)
        return data


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Kefu API",
        version="2",
        description=(
            "Zendesk-compatible REST API. Paths accept an optional `.json` suffix. "
            "See docs/api.md for conventions and the differences from Zendesk."
        ),
        urls_namespace="api",
        auth=api_auth,
        renderer=Renderer(),
        parser=StrictJsonParser(),
    )
    install_handlers(api)
    for module_name, attribute in ROUTERS:
        module = importlib.import_module(module_name)
        api.add_router("", getattr(module, attribute))
    return api


api = build_api()


def openapi_document(request: HttpRequest | None = None) -> dict:
    """The OpenAPI document as served (``kefu manage export_openapi`` writes it)."""
    return api.get_openapi_schema(path_prefix="/api/v2/")
