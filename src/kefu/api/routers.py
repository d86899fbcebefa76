"""The API's router registry: one line per app, ``(module, attribute)``.

Each app keeps its endpoints in ``<app>/api.py`` (a ``ninja.Router`` named ``router``) and its
serializers/input schemas in ``<app>/schemas.py``. Paths inside a router are relative to
``/api/v2/`` and carry no ``.json`` suffix (the middleware accepts it on every path).
Order matters only for the order of the OpenAPI document.
"""

ROUTERS: list[tuple[str, str]] = [
    ("kefu.api.api", "router"),
    ("kefu.accounts.api", "router"),
    ("kefu.tickets.api", "router"),
    ("kefu.accounts.people_api", "router"),
    ("kefu.accounts.people_api", "groups_router"),
    ("kefu.crm.api", "router"),
    ("kefu.search.api", "router"),
    ("kefu.exports.api", "router"),
    ("kefu.surveys.api", "router"),
    ("kefu.sla.api", "router"),
    ("kefu.tickets.api_config", "router"),
    ("kefu.tickets.api_views", "router"),
    ("kefu.rules.api", "router"),
    ("kefu.channels.email.api", "router"),
]
