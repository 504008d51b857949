"""Work for the reader-pool tests: importable by the spawned worker processes (by reference)."""

from __future__ import annotations

import os
import time

WARMED: list[str] = []  # what warm() did in this process


class Panic(BaseException):
    """Like pyo3_runtime.PanicException: a BaseException, not an Exception."""


def setup(config: dict) -> dict:
    return {"factor": config["factor"], "pid": os.getpid()}


def warm() -> None:
    WARMED.append("warm")


def failing_warm() -> None:
    raise ImportError("no such module")


class EndsWhenSent:
    """A result whose pickling ends the process: the worker dies between items, its chunk
    read but not sent."""

    def __reduce__(self):
        os._exit(3)


def work(state: dict, item: tuple) -> object:
    kind = item[0]
    if kind == "ends_when_sent":
        return EndsWhenSent()
    if kind == "warmed":
        return ("warmed", list(WARMED))
    if kind == "abort":
        os.abort()
    if kind == "exit":
        os._exit(3)
    if kind == "sleep":
        time.sleep(item[1])
    if kind == "panic":
        raise Panic("index out of bounds")
    if kind == "alloc":
        block = bytearray(item[1] * 1024 * 1024)
        return ("allocated", len(block))
    return ("ok", item[1] * state["factor"])


def failed(item: tuple, code: str, detail: str) -> tuple[str, object]:
    return (code, detail)


def task(conn, payload: str) -> None:
    """A caller's task (ReaderPool.call): echoes, dies or fails as told."""
    if payload == "exit":
        os._exit(3)
    if payload == "raise":
        raise ValueError("no")
    conn.send(("echo", payload, conn.recv()))


def imported(conn, names: list[str]) -> None:
    """A caller's task: which of these modules this worker has imported."""
    import sys

    conn.send(("imported", [name for name in names if name in sys.modules]))
