"""The public API's shared machinery (Zendesk-compatible, under ``/api/v2``).

- ``site``: the one ``NinjaAPI`` instance, assembled from the routers listed in ``routers``.
- ``routers``: the registry — each app adds one line ``("kefu.<app>.api", "router")``.
- ``auth``: Basic ``email/token:TOKEN``, ``Bearer TOKEN`` and session cookies (CSRF checked).
- ``middleware``: ``.json`` suffixes, rate limits, idempotency keys, JSON errors outside ninja.
- ``errors``: Zendesk-shaped error bodies and the exception handlers.
- ``pagination``: cursor and offset pages shared by every list endpoint.

See docs/api.md (conventions) and docs/development.md ("How to add an API resource").
"""
