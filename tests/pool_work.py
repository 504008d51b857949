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


class EndsWhenPickled:
    """A result whose pickling ends the process (in the worker, before anything is sent)."""

    def __reduce__(self):
        os._exit(3)


def _close_sockets() -> None:
    """Close this process's sockets (its pipe to the parent): its next send fails and the
    process ends between items, after this one was read (Linux: /proc/self/fd)."""
    import stat

    for name in os.listdir("/proc/self/fd"):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                os.close(int(name))
        except OSError:
            continue


def work(state: dict, item: tuple) -> object:
    kind = item[0]
    if kind == "ends_when_pickled":
        return EndsWhenPickled()
    if kind == "ends_when_sent":
        _close_sockets()
        return ("sent", item[1] * state["factor"])
    if kind == "big":
        return ("big", bytes(item[1] << 20))
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
