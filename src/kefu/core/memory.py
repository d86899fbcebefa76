"""Keeping the garbage collector off the objects a process lives with.

After start-up a Kefu process holds ~130,000 objects that live as long as it does (modules,
settings, URL patterns, models' metadata, compiled templates). CPython's cyclic collector
walks every tracked object at each full collection — ~90 ms here — and a batch that keeps
many new objects alive (routing 1,000 tickets, re-evaluating SLAs) sets off several: about
a sixth of a routing drain's CPU went to them (bench/RESULTS.md). ``gc.freeze()`` moves the
objects alive at start-up to a permanent generation that collections skip; objects made
later are collected as before. Long-running processes call ``freeze_startup`` once they
are ready (``kefu run``, ``kefu web`` and its worker processes, ``kefu worker``,
``kefu smtpd``); it is also how the benchmarks start.
"""

import gc


def freeze_startup() -> None:
    """Collect the start-up garbage, then freeze what is alive."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loads every URLconf and view module now
    gc.collect()
    gc.freeze()
