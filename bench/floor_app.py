"""The framework's floor for bench/cpu.py: aiohttp on uvloop answering a POST with a constant JSON
body after reading the request body, and nothing else (no middleware, no parsing, no storage).
What a request costs the service beyond this is the service's own doing.

    python -m bench.floor_app PORT
"""

from __future__ import annotations

import sys

from aiohttp import web

from watcher.eventloop import new_event_loop

BODY = b'{"message":"Snapshot registered successfully"}'


async def answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log=None,
        print=None,
        loop=new_event_loop("auto"),
    )


if __name__ == "__main__":
    main()
