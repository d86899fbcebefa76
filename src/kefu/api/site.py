"""The one ``NinjaAPI`` behind ``/api/v2``, assembled from the router registry."""

import importlib

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from .auth import api_auth
from .errors import install_handlers
from .routers import ROUTERS


class Renderer(JSONRenderer):
    """UTF-8 JSON without ``\\u`` escapes (中文 stays readable and shorter)."""

    json_dumps_params = {"ensure_ascii": False}


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
