"""kefu.asgi.ReusedThreads: requests' synchronous code runs on long-lived threads (so their
database connections live on), one request per thread at a time."""

import asyncio
import threading

from asgiref.sync import ThreadSensitiveContext, sync_to_async

from kefu.asgi import ReusedThreads


def _app(seen: list[str], gate: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
    """Mimics Django's ASGI handler: its own ThreadSensitiveContext, sync code inside."""

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        async with ThreadSensitiveContext():
            await sync_to_async(lambda: seen.append(threading.current_thread().name))()
            if gate is not None:
                await gate.wait()
            await sync_to_async(lambda: seen.append(threading.current_thread().name))()

    return app


async def _noop(*args):  # type: ignore[no-untyped-def]
    return None


def test_requests_one_after_another_run_on_the_same_long_lived_thread():
    seen: list[str] = []
    server = ReusedThreads(_app(seen))  # type: ignore[arg-type]

    async def two_requests() -> None:
        await server({"type": "http"}, _noop, _noop)
        await server({"type": "http"}, _noop, _noop)

    asyncio.run(two_requests())
    assert len(seen) == 4 and len(set(seen)) == 1
    assert seen[0].startswith("kefu-web-") and server.made == 1


def test_concurrent_requests_get_a_thread_each():
    seen: list[str] = []
    gate = asyncio.Event()

    async def overlapping() -> ReusedThreads:
        server = ReusedThreads(_app(seen, gate))  # type: ignore[arg-type]
        first = asyncio.create_task(server({"type": "http"}, _noop, _noop))
        second = asyncio.create_task(server({"type": "http"}, _noop, _noop))
        await asyncio.sleep(0.2)
        gate.set()
        await asyncio.gather(first, second)
        return server

    server = asyncio.run(overlapping())
    assert server.made == 2 and len(set(seen)) == 2
    assert len(server.idle) == 2  # both threads wait for the next requests


def test_threads_beyond_the_ones_kept_finish_after_a_burst():
    seen: list[str] = []
    gate = asyncio.Event()

    async def burst() -> ReusedThreads:
        server = ReusedThreads(_app(seen, gate), keep=1)  # type: ignore[arg-type]
        requests = [asyncio.create_task(server({"type": "http"}, _noop, _noop)) for _ in range(3)]
        await asyncio.sleep(0.2)
        gate.set()
        await asyncio.gather(*requests)
        return server

    server = asyncio.run(burst())
    assert server.made == 3 and len(server.idle) == 1  # the other two were shut down
