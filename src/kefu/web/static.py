"""Static files: ServeStatic's middleware, left out of the synchronous request handler.

ServeStatic's middleware is asynchronous only. In a middleware stack that is otherwise
synchronous, Django would have to switch between the event loop and a thread around it on
every request. ``kefu.asgi`` therefore answers requests under ``STATIC_URL`` with Django's
own asynchronous handler (this middleware included, as configured) and every other request
with a synchronous handler that loads the same ``MIDDLEWARE`` inside :func:`left_out`, where
this middleware declines (``MiddlewareNotUsed``): it would never see one of its files there.
"""

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import MiddlewareNotUsed
from servestatic.middleware import ServeStaticMiddleware

_left_out: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "kefu_static_left_out", default=False
)


@contextlib.contextmanager
def left_out() -> Iterator[None]:
    """Middleware loaded inside this block goes without static files."""
    token = _left_out.set(True)
    try:
        yield
    finally:
        _left_out.reset(token)


class StaticFilesMiddleware(ServeStaticMiddleware):
    """ServeStatic's middleware, except in a handler loaded inside :func:`left_out`."""

    def __init__(self, get_response: Any = None, *args: Any, **kwargs: Any) -> None:
        if _left_out.get():
            raise MiddlewareNotUsed
        super().__init__(get_response, *args, **kwargs)
