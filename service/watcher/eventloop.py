"""The event loop a program runs on: uvloop where it is installed (the default), asyncio's own
otherwise or when asked. uvloop's transports are written in C over libuv; the same requests cost
the server markedly less CPU (make bench prints the figures), which matters where each class's
instance runs under a CPU limit."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

CHOICES = ("auto", "uvloop", "asyncio")


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """A fresh loop of the chosen kind; `auto` is uvloop when it can be imported."""
    if choice == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        log.info("uvloop is not installed: running on asyncio's event loop")
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """`uvloop` or `asyncio`, for the start-up log line."""
    return type(loop).__module__.split(".")[0]
