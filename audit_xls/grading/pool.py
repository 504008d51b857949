"""Isolated readers: a pool of worker processes that each read, check and score files.

One design for two needs: `grade --jobs N` runs N worker processes (speed), and every
returned file is read in a worker, never in the process that holds the batch (safety). A
worker has a memory ceiling (an address-space limit on POSIX, a Job Object memory limit on
Windows) and each file a time limit. A worker that dies (a Rust abort, a segfault, the memory
ceiling), or is stopped because a file took too long, is replaced: the file it was reading
comes back as a failure with a clear code, the other files of its chunks (not read yet, or read
and not yet sent back) are sent to a worker again, and the batch goes on. A Rust panic
(`pyo3_runtime.PanicException`, a `BaseException`) is caught inside the worker and reported
the same way without losing the process.

The pool uses only "spawn"-safe means (no fork semantics, so it behaves the same on
Windows): workers are started by `multiprocessing`'s spawn context, receive their set-up as
pickled data, and talk to the parent over one pipe each. Work is sent in chunks, and a chunk's
results come back in one message. Which item a worker is on is in a shared slot that it writes
before and after each item (a `multiprocessing` shared value passed at spawn, the same on
Windows), so the parent knows which file a dead or stalled worker was reading without a
message per file. The pool lives for the process and is reused by later batches (a worker's
state is set up again when the batch's configuration differs): no process is started per file
or per batch.

`jobs=0` (library only, not the CLI) runs the work in the calling process: for debugging and
profiling; it isolates nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler

# Neither typing nor dataclasses here: `audit-xls grade` imports this module before it starts
# its readers (readers.start_early), and they cost it ~50M instructions (~25%) before then.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Setup = Callable[[Any], Any]  # config -> the worker's state (e.g. a Checker)
    Work = Callable[[Any, Any], Any]  # (state, item) -> a picklable result
    Failed = Callable[[Any, str, str], Any]  # (item, code, detail) -> the result of a failed item
    Warm = Callable[[], None]  # what a booted worker does before its set-up (e.g. its imports)
    Progress = Callable[[int, int], None]

# Environment overrides of the limits (megabytes of address space, seconds per file).
MEMORY_ENV = "AUDIT_XLS_READER_MEMORY_MB"
SECONDS_ENV = "AUDIT_XLS_READER_SECONDS"
DEFAULT_MEMORY_MB = 1024
DEFAULT_SECONDS = 60.0
MAX_CHUNK = 16
FLUSH_BYTES = 4 << 20  # a worker sends what it has read once its results reach this size
MAX_RESENDS = 3  # an item sent again so often, its worker ending between items each time, is blamed

# Why a worker failed on an item, as diagnostic codes (audit_xls.model.diagnostics).
READER_FAILED = "file.reader_failed"
READER_TIMEOUT = "file.reader_timeout"


class PoolError(RuntimeError):
    """The worker processes could not be started or set up (not a problem of one file)."""


class Limits:
    """What one worker may use: address space (MB) and seconds per item. Immutable, equal
    when its values are (as the frozen dataclass it was)."""

    __slots__ = ("memory_mb", "seconds")
    memory_mb: int
    seconds: float

    def __init__(
        self, memory_mb: int = DEFAULT_MEMORY_MB, seconds: float = DEFAULT_SECONDS
    ) -> None:
        object.__setattr__(self, "memory_mb", memory_mb)
        object.__setattr__(self, "seconds", seconds)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.memory_mb, self.seconds) == (other.memory_mb, other.seconds)

    def __hash__(self) -> int:
        return hash((self.memory_mb, self.seconds))

    def __repr__(self) -> str:
        return f"Limits(memory_mb={self.memory_mb!r}, seconds={self.seconds!r})"

    def __reduce__(self) -> tuple[type[Limits], tuple[int, float]]:
        return Limits, (self.memory_mb, self.seconds)  # pickled to each worker

    @classmethod
    def from_env(cls) -> Limits:
        memory = os.environ.get(MEMORY_ENV, "")
        seconds = os.environ.get(SECONDS_ENV, "")
        return cls(
            int(memory) if memory.isdigit() else DEFAULT_MEMORY_MB,
            float(seconds) if _is_number(seconds) else DEFAULT_SECONDS,
        )


def _is_number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def default_jobs() -> int:
    """The cores this process may run on."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        return max(1, counter() or 1)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# --- the worker side -----------------------------------------------------------------------


def limit_memory(megabytes: int) -> str:
    """Cap this process's memory; returns how ("rlimit", "job", or "" when not possible).

    POSIX: RLIMIT_AS, the address space: an allocation past it fails (Python raises
    MemoryError, Rust aborts the process, which the pool survives). Windows: a Job Object with
    a per-process committed-memory limit, the same effect.
    """
    limit = megabytes * 1024 * 1024
    if sys.platform == "win32":
        try:
            return "job" if _windows_job_limit(limit) else ""
        except (
            OSError,
            AttributeError,
            ValueError,
            TypeError,
        ):  # no ceiling rather than no grading
            return ""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        return "rlimit"
    except (ImportError, ValueError, OSError):
        return ""


def _windows_job_limit(limit: int) -> bool:  # pragma: no cover - Windows only
    """Put this process in a new Job Object whose processes may commit at most `limit` bytes."""
    import ctypes
    from ctypes import wintypes

    class BasicLimits(ctypes.Structure):
        _fields_ = (
            ("PerProcessUserTimeLimit", ctypes.c_int64),
            ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        )

    class IoCounters(ctypes.Structure):
        _fields_ = tuple(
            (name, ctypes.c_uint64)
            for name in (
                "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
                "ReadTransferCount", "WriteTransferCount", "OtherTransferCount",
            )
        )  # fmt: skip

    class ExtendedLimits(ctypes.Structure):
        _fields_ = (
            ("BasicLimitInformation", BasicLimits),
            ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        )

    job_object_limit_process_memory = 0x100
    job_object_extended_limit_information = 9
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    # every handle declared: GetCurrentProcess's pseudo-handle (-1) overflows a default int
    kernel32.CreateJobObjectW.argtypes = (ctypes.c_void_p, wintypes.LPCWSTR)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.GetCurrentProcess.argtypes = ()
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.SetInformationJobObject.argtypes = (
        wintypes.HANDLE,
        ctypes.c_int,
        ctypes.c_void_p,
        wintypes.DWORD,
    )
    kernel32.SetInformationJobObject.restype = wintypes.BOOL
    kernel32.AssignProcessToJobObject.argtypes = (wintypes.HANDLE, wintypes.HANDLE)
    kernel32.AssignProcessToJobObject.restype = wintypes.BOOL
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return False
    info = ExtendedLimits()
    info.BasicLimitInformation.LimitFlags = job_object_limit_process_memory
    info.ProcessMemoryLimit = limit
    ok = kernel32.SetInformationJobObject(
        job, job_object_extended_limit_information, ctypes.byref(info), ctypes.sizeof(info)
    )
    return bool(ok and kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess()))


def _quiet_worker() -> None:
    """Ctrl-C is the parent's to handle; Rust panics print no backtrace onto the batch's stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["RUST_BACKTRACE"] = "0"
    if os.environ.get("AUDIT_XLS_DEBUG") != "1":
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)


def _worker_main(
    conn: Connection, slot: Any, limits: Limits, setup: Setup, work: Work, warm: Warm | None = None
) -> None:
    """A worker's life: set up per configuration, then chunks of items, one reply a chunk
    (or more, when its results are large: FLUSH_BYTES).

    Before each item it writes 2 * index into `slot`, after it 2 * index + 1: a worker that
    dies or stalls was reading the item its slot names with an even number, and one whose slot
    is odd was between items (see ReaderPool._culprit)."""
    _quiet_worker()
    limit_memory(limits.memory_mb)
    state: Any = None
    token = None
    conn.send(("ready", os.getpid()))
    if warm is not None:
        # while the caller makes its configuration; what fails here fails again in setup, told
        with contextlib.suppress(Exception):
            warm()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            # told to stop: nothing is left to flush or commit (a history task has answered),
            # so the interpreter's tear-down, which the caller would wait for, is skipped
            conn.close()
            os._exit(0)
        kind = message[0]
        if kind == "config":
            token, payload = message[1], message[2]
            try:
                state = setup(pickle.loads(payload))
            except BaseException as error:  # reported to the parent, which stops the batch
                conn.send(("setup_failed", token, _describe(error)))
                continue
            conn.send(("configured", token))
        elif kind == "chunk":
            replies: list[bytes] = []  # each result pickled as it is made
            held = 0
            first = message[1][0][0]
            for index, item in message[1]:
                slot.value = 2 * index  # reading it
                try:
                    reply = _pickled(True, work(state, item))
                except BaseException as error:  # a Rust panic is a BaseException
                    reply = _pickled(False, _describe(error))
                slot.value = 2 * index + 1  # done with it
                replies.append(reply)
                held += len(reply)
                if held >= FLUSH_BYTES and index != message[1][-1][0]:
                    # large results (pictures' bytes without a spool) go before the chunk
                    # ends: a worker never holds more than about this much unsent
                    conn.send_bytes(ForkingPickler.dumps(("chunk", first, replies)))
                    replies, held, first = [], 0, index + 1
            conn.send_bytes(ForkingPickler.dumps(("chunk", first, replies)))
        elif kind == "call":  # the caller's task, conversing over this pipe (ReaderPool.call)
            try:
                message[1](conn, message[2])
            except BaseException as error:
                with contextlib.suppress(Exception):
                    conn.send(("call_failed", _describe(error)))


def _pickled(ok: bool, result: Any) -> bytes:
    """One result as it travels; one that cannot be pickled fails alone. Plain pickle first
    (~1 µs for grade's results); what only multiprocessing's pickler takes (a connection, a
    socket) as Connection.send would pickle it."""
    try:
        return pickle.dumps((ok, result), pickle.HIGHEST_PROTOCOL)
    except Exception:
        pass
    try:
        buffer = io.BytesIO()
        ForkingPickler(buffer, pickle.HIGHEST_PROTOCOL).dump((ok, result))
        return buffer.getvalue()
    except Exception as error:
        return pickle.dumps((False, _describe(error)), pickle.HIGHEST_PROTOCOL)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the parent side -----------------------------------------------------------------------


class _Worker:
    """One worker process as the parent sees it."""

    __slots__ = ("busy", "chunks", "conn", "process", "ready", "seen", "since", "slot", "token")

    def __init__(self, process: Any, conn: Connection, slot: Any) -> None:
        self.process = process  # multiprocessing.Process of the spawn context
        self.conn = conn
        self.slot = slot  # a shared int: 2 * the item it reads, + 1 once done (see _worker_main)
        self.token: Any = None  # the configuration it holds
        self.busy: deque[int] = deque()  # indices sent and not answered, in the order it reads them
        self.chunks: deque[int] = deque()  # the sizes of the chunks sent and not answered
        self.since = 0.0  # when the parent last saw it move on (a reply, its slot changed)
        self.seen = -1  # its slot as the parent last saw it
        self.ready = False  # it said "ready" (launched workers boot while the caller goes on)

    def moved(self, now: float) -> None:
        """Its clock restarts when its slot changed since the parent last looked."""
        value = self.slot.value
        if value != self.seen:
            self.seen = value
            self.since = now


class ReaderPool:
    """Worker processes running `work(state, item)`, isolated from the caller and each other."""

    def __init__(self, jobs: int, limits: Limits | None = None, setup: Setup | None = None,
                 work: Work | None = None, warm: Warm | None = None):  # fmt: skip
        self.jobs = max(1, jobs)
        self.limits = limits or Limits.from_env()
        self.setup = setup
        self.work = work
        self.warm = warm  # run by each worker once booted, before its set-up arrives
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []
        self.started = 0  # processes started over the pool's life (replacements included)
        self._tokens = itertools.count(1)
        self._config: tuple[int, bytes] | None = None

    # -- processes

    def _start(self) -> _Worker:
        return self._ready(self._launch())

    def _launch(self) -> _Worker:
        """Start a worker process without waiting for it (it answers "ready" once booted)."""
        parent, child = self.context.Pipe(duplex=True)
        slot = self.context.RawValue("q", -1)
        process = self.context.Process(
            target=_worker_main,
            args=(child, slot, self.limits, self.setup, self.work, self.warm),
            name="audit-xls-reader",
            daemon=True,
        )
        process.start()
        child.close()
        self.started += 1
        return _Worker(process, parent, slot)

    def _ready(self, worker: _Worker) -> _Worker:
        """Wait for a launched worker's "ready"; a worker that never says it is stopped."""
        reply = self._receive(worker, timeout=max(60.0, self.limits.seconds))
        if not reply or reply[0] != "ready":
            self._stop(worker)
            raise PoolError(
                "the reader process could not start"
                f" (exit code {worker.process.exitcode}, memory limit {self.limits.memory_mb} MB)"
            )
        worker.ready = True
        return worker

    def launch(self) -> None:
        """Start the missing workers without waiting for them: they boot (~0.2 s each, side by
        side) while the caller lists its files; `map` then waits only for what is left."""
        self.workers = [w for w in self.workers if w.process.is_alive()]
        try:
            while len(self.workers) < self.jobs:
                self.workers.append(self._launch())
        except BaseException:
            self.close()
            raise

    def _receive(self, worker: _Worker, timeout: float) -> Any:
        """One message, or None when the worker died or said nothing within `timeout`."""
        try:
            if worker.conn.poll(timeout):
                return worker.conn.recv()
        except (EOFError, OSError):
            pass
        return None

    def _stop(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):
            worker.conn.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)

    def _configure(self, worker: _Worker) -> None:
        self._configure_all([worker])

    def _configure_all(self, workers: Sequence[_Worker]) -> None:
        """Set up every worker for the batch: all are sent the configuration first, then
        answered, so they set up side by side rather than one after another."""
        assert self._config is not None
        token, payload = self._config
        sent = []
        for worker in workers:
            if worker.token != token:
                worker.conn.send(("config", token, payload))
                sent.append(worker)
        for worker in sent:
            self._configured(worker, token)

    def _configured(self, worker: _Worker, token: int) -> None:
        reply = self._receive(worker, timeout=max(60.0, self.limits.seconds))
        if reply is None:
            raise PoolError(f"the reader process stopped while being set up (exit code "
                            f"{worker.process.exitcode})")  # fmt: skip
        if reply[0] != "configured":
            raise PoolError(f"the reader process could not be set up: {reply[2]}")
        worker.token = token

    def close(self) -> None:
        for worker in self.workers:
            if worker.token is None:
                # never set up, so it holds nothing: stopped now rather than waited for while
                # it boots (a `grade` whose options turn out wrong started its readers early)
                self._stop(worker)
                continue
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in self.workers:
            worker.process.join(2)
            self._stop(worker)
        self.workers = []

    # -- the work

    def map(
        self,
        config: Any,
        items: Sequence[Any],
        failed: Failed,
        progress: Progress | None = None,
        received: Callable[[Any], Any] | None = None,
    ) -> list[Any]:
        """Results of `work(state, item)` for every item, in order; never lost to one item.

        `config` (pickled once) sets up each worker's state with `setup(config)`. An item whose
        worker died or ran out of time gets `failed(item, code, detail)` instead. `received`,
        when given, turns each worker's result into what is kept as it arrives (the caller's
        unpacking, done while the workers read on rather than after the last one).
        """
        total = len(items)
        results: list[Any] = [None] * total
        if progress:
            progress(0, total)
        if not total:
            return results
        self._config = (next(self._tokens), pickle.dumps(config, pickle.HIGHEST_PROTOCOL))
        try:
            self._run(items, results, failed, progress, received)
        except BaseException:
            self.close()  # a worker in an unknown state is never reused (Ctrl-C, a bug)
            raise
        return results

    def _run(self, items, results, failed, progress, received=None) -> None:
        total = len(items)
        # items sent back by a replaced worker, sent again before the others
        pending: deque[list[int]] = deque()
        fresh = 0  # the first item not yet sent
        wanted = min(self.jobs, total)
        alive = [w for w in self.workers if w.process.is_alive()]
        for worker in self.workers:
            if worker not in alive:
                self._stop(worker)
        # the workers boot side by side (each imports the reader, ~0.15 s), not one by one;
        # those launched earlier (launch()) have been booting meanwhile
        self.workers = alive + [self._launch() for _ in range(wanted - len(alive))]
        try:
            for worker in self.workers[:wanted]:
                if not worker.ready:
                    self._ready(worker)
        except BaseException:
            for worker in self.workers:
                if not worker.ready:
                    self._stop(worker)
            self.workers = [w for w in self.workers if w.ready]
            raise
        active = self.workers[:wanted]
        for worker in active:
            worker.busy.clear()
            worker.chunks.clear()
            worker.slot.value = worker.seen = -1  # idle: nothing of this batch read yet
        self._configure_all(active)
        done = 0
        # items sent again, one by one, after a worker ended between items (no item to blame),
        # and how often: see _culprit
        resent: dict[int, int] = {}
        seconds = self.limits.seconds

        def feed(worker: _Worker) -> None:
            # two chunks in flight: the worker never waits for the parent between chunks
            nonlocal fresh
            while (pending or fresh < total) and len(worker.chunks) < 2:
                if pending:
                    chunk = pending.popleft()
                else:
                    # chunks shrink as the batch ends (a quarter of each worker's share of
                    # what is left, at most MAX_CHUNK): the workers end nearly together
                    size = max(1, min(MAX_CHUNK, (total - fresh) // (self.jobs * 4)))
                    chunk = list(range(fresh, min(fresh + size, total)))
                    fresh += len(chunk)
                if not worker.busy:
                    worker.since = time.monotonic()
                try:
                    worker.conn.send(("chunk", [(i, items[i]) for i in chunk]))
                except OSError:  # it died idle: the chunk goes back, the loop replaces it
                    pending.appendleft(chunk)
                    return
                worker.busy.extend(chunk)
                worker.chunks.append(len(chunk))

        def finish(index: int, result: Any) -> None:
            nonlocal done
            results[index] = result
            done += 1
            if progress:
                progress(done, total)

        def replace(worker: _Worker, code: str, detail: str, slot: int) -> _Worker:
            """The worker died or stalled: the item it was reading is reported, the others it
            held (read but not sent, or not read) are sent again; another worker starts.
            `slot` names what it was on: a dead worker's last, or for one over its time limit
            the one it was seen with when the limit passed (it is stopped before its replies
            are read, so an item it ended meanwhile is not blamed on the next)."""
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
            self._drain(worker, items, finish, failed, received)
            self._stop(worker)
            if worker.busy:
                held = list(worker.busy)
                worker.busy.clear()
                worker.chunks.clear()
                culprit = self._culprit(slot, held, resent)
                if culprit is not None:
                    finish(culprit, failed(items[culprit], code, detail))
                    held.remove(culprit)
                else:
                    for index in held:
                        resent[index] = resent.get(index, 0) + 1
                    pending.extendleft([index] for index in reversed(held))
                    held = []
                if held:
                    pending.appendleft(held)
            spare = self._start()
            self._configure(spare)
            self.workers[self.workers.index(worker)] = spare
            return spare

        for worker in active:
            feed(worker)
        while done < total:
            busy = [w for w in active if w.busy]
            if not busy:
                raise PoolError("no reader process holds work, yet results are missing")
            now = time.monotonic()
            for worker in busy:
                worker.moved(now)
            # a worker's slot is looked at on every wake, and at least every eighth of the
            # limit, so an item is stopped after the limit and at most an eighth more
            deadline = min(w.since for w in busy) + seconds
            ready = wait(
                [w.conn for w in busy] + [w.process.sentinel for w in busy],
                timeout=max(0.0, min(deadline - now, seconds / 8)),
            )
            now = time.monotonic()
            for position, worker in enumerate(list(active)):
                if worker.conn in ready:
                    self._drain(worker, items, finish, failed, received)
                if worker.process.sentinel in ready or (
                    not worker.busy and (pending or fresh < total)
                ):
                    if not worker.process.is_alive():
                        death = self._death(worker)
                        worker = replace(worker, READER_FAILED, death, worker.slot.value)
                elif worker.busy:
                    worker.moved(now)
                    if now - worker.since > seconds:
                        worker = replace(worker, READER_TIMEOUT, f"{seconds:g}", worker.seen)
                active[position] = worker
            # every worker with room takes more (and work sent back by a replaced one)
            for worker in active:
                feed(worker)

    @staticmethod
    def _culprit(slot: int, held: list[int], resent: dict[int, int]) -> int | None:
        """The item to blame for a stopped worker, from its slot: the item it was reading
        (even). Between items (odd), none: its items are sent again one by one, so that ending
        between items again, its slot names the item whose reply was going out, which is then
        blamed. An item sent again so MAX_RESENDS times is blamed, so that no batch can loop."""
        index, between = divmod(slot, 2)
        if slot >= 0 and not between and index in held:
            return index
        if slot >= 0 and between and index == held[0] and index in resent:
            return index
        if resent.get(held[0], 0) >= MAX_RESENDS:
            return held[0]
        return None

    def _drain(self, worker: _Worker, items, finish, failed, received=None) -> None:
        """Take every reply waiting from `worker` (its pipe may outlive its process)."""
        conn = worker.conn
        try:
            while worker.busy and conn.poll():
                kind, first, replies = conn.recv()
                if kind != "chunk" or first != worker.busy[0] or len(replies) > len(worker.busy):
                    # replies come in order, a chunk at a time; anything else is a bug
                    raise PoolError(f"reply for items from {first}, expected {worker.busy[0]}")
                worker.since = time.monotonic()
                # a chunk's results come in one reply, or in several when they are large
                if worker.chunks[0] > len(replies):
                    worker.chunks[0] -= len(replies)
                else:
                    worker.chunks.popleft()
                popleft = worker.busy.popleft
                loads = ForkingPickler.loads
                for reply in replies:
                    ok, payload = loads(reply)
                    index = popleft()
                    if ok:
                        finish(index, payload if received is None else received(payload))
                    else:
                        finish(index, failed(items[index], READER_FAILED, payload))
        except (EOFError, OSError):
            pass

    def call(self, task: Callable[[Connection, Any], None], payload: Any) -> Call | None:
        """Hand `task(conn, payload)` to an idle worker (after `map`: grade's CSV and history
        while the caller writes its summary); None when no worker is up. The task talks to the
        caller over the worker's pipe through the returned Call; the worker then reads on."""
        for worker in self.workers:
            if worker.ready and not worker.busy and worker.process.is_alive():
                try:
                    worker.conn.send(("call", task, payload))
                except OSError:
                    continue
                return Call(self, worker)
        return None

    def _death(self, worker: _Worker) -> str:
        """How the worker ended, for the message: a signal name or an exit code."""
        worker.process.join(5)
        code = worker.process.exitcode
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                return f"reader process ended by {signal.Signals(-code).name}"
            return f"reader process ended by signal {-code}"
        return f"reader process ended with exit code {code}"


class Call:
    """The caller's side of a task running in a worker (ReaderPool.call)."""

    def __init__(self, pool: ReaderPool, worker: _Worker) -> None:
        self.pool = pool
        self.worker = worker

    def receive(self) -> Any:
        """The task's next message; None when the worker died or the task failed."""
        conn, process = self.worker.conn, self.worker.process
        try:
            while True:
                if conn.poll():
                    message = conn.recv()
                    return None if message[0] == "call_failed" else message
                if not process.is_alive():
                    # its last words may still be in the pipe
                    return self.receive() if conn.poll() else None
                wait([conn, process.sentinel])
        except (EOFError, OSError):
            return None

    def send(self, message: Any) -> bool:
        try:
            self.worker.conn.send(message)
            return True
        except OSError:
            return False

    def abandon(self) -> None:
        """The conversation went wrong: the worker, in an unknown state, is stopped."""
        self.pool._stop(self.worker)
        if self.worker in self.pool.workers:
            self.pool.workers.remove(self.worker)


# --- one pool per process, reused by every batch ------------------------------------------

_shared: ReaderPool | None = None
_shared_lock = threading.Lock()


def shared_pool(
    jobs: int, setup: Setup, work: Work, limits: Limits | None = None, warm: Warm | None = None
) -> ReaderPool:
    """The process's pool for this (setup, work, warm), with `jobs` workers and these limits."""
    global _shared
    limits = limits or Limits.from_env()
    with _shared_lock:
        pool = _shared
        wanted = (max(1, jobs), limits, setup, work, warm)
        if pool is None or (pool.jobs, pool.limits, pool.setup, pool.work, pool.warm) != wanted:
            if pool is not None:
                pool.close()
            pool = _shared = ReaderPool(jobs, limits, setup, work, warm)
        return pool


def current_pool() -> ReaderPool | None:
    """The process's pool as it is (None when none was made)."""
    return _shared


def close_shared_pool() -> None:
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.close()
            _shared = None


atexit.register(close_shared_pool)


def run_in_process(
    setup: Setup, work: Work, config: Any, items: Iterable[Any], progress: Progress | None
) -> list[Any]:
    """jobs=0: the same work in this process, for debugging (no isolation, no limits)."""
    items = list(items)
    state = setup(config)
    out = []
    if progress:
        progress(0, len(items))
    for done, item in enumerate(items, 1):
        out.append(work(state, item))
        if progress:
            progress(done, len(items))
    return out
