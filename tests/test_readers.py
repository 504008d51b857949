"""grading/readers.py: `audit-xls grade` starts its readers before the CLI is imported."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from returns import MINI_YAML, fill, issue, mini_standard

from audit_xls.cli import cli
from audit_xls.grading import pool, readers


@pytest.mark.parametrize(
    ("args", "jobs"),
    [
        (["grade", "returns", "--out", "s.xlsx", "--jobs", "3"], 3),
        (["grade", "returns", "--jobs=1", "--out", "s.xlsx"], 1),
        (["grade", "returns", "--out", "s.xlsx"], None),  # one per core, as grade's default
        (["grade", "--jobs", "2", "returns", "--jobs", "1"], 1),  # the last given, as click
        (["grade", "--jobs", "1", "--", "--jobs=2"], 1),  # after --: a folder so named
    ],
)
def test_grade_starts_its_readers_with_the_jobs_it_asks_for(monkeypatch, args, jobs):
    started = []
    monkeypatch.setattr(readers, "start_readers", started.append)
    readers.start_early(args)
    assert started == [jobs]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["build", "--jobs", "2"],
        ["monthly", "grade"],
        ["grade", "--help"],
        ["grade", "returns", "-h"],
        ["grade", "returns", "--jobs", "0"],  # the CLI refuses these: nothing to start
        ["grade", "returns", "--jobs", "65"],
        ["grade", "returns", "--jobs=two"],
        ["grade", "returns", "--jobs", "\u0663"],  # an Arabic-Indic 3: a digit, not ASCII
        ["grade", "returns", "--jobs"],
    ],
)
def test_anything_else_starts_nothing(monkeypatch, args):
    started = []
    monkeypatch.setattr(readers, "start_readers", started.append)
    readers.start_early(args)
    assert started == []


def test_a_reader_that_cannot_start_early_is_left_to_grade(monkeypatch):
    """The second reader cannot start: nothing is said, the first is stopped, no pool is left
    (grade starts its readers again and words the error)."""
    launched = []
    real_launch = pool.ReaderPool._launch

    def launch(self):
        if launched:
            raise OSError("no more processes")
        launched.append(real_launch(self))
        return launched[-1]

    monkeypatch.setattr(pool.ReaderPool, "_launch", launch)
    pool.close_shared_pool()
    readers.start_early(["grade", "returns", "--jobs", "2"])  # says nothing, raises nothing
    assert pool.current_pool() is None
    assert len(launched) == 1 and not launched[0].process.is_alive()


def test_readers_never_set_up_are_stopped_not_waited_for():
    """A `grade` whose options turn out wrong has started its readers early: at the exit they
    are stopped at once (killed), not waited for while they boot."""
    early = pool.ReaderPool(3, setup=readers.make_checker, work=readers.grade_file,
                            warm=readers.warm)  # fmt: skip
    early.launch()
    workers = list(early.workers)
    early.close()
    assert [w.process.exitcode for w in workers] == [-signal.SIGKILL] * 3


def test_grade_reads_with_the_readers_started_early(tmp_path):
    (tmp_path / "std").mkdir()
    standard = mini_standard(tmp_path / "std")
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    folder = tmp_path / "returns"
    folder.mkdir()
    for code in ("P001", "P002", "P003"):
        book = issue(standard, code, code, "华东")
        (folder / f"{code}.xlsx").write_bytes(fill(book, standard, {}, default=("符合", None)))
    args = ["grade", str(folder), "--standards", str(standards), "--out",
            str(tmp_path / "s.xlsx"), "--jobs", "2", "--no-history"]  # fmt: skip
    pool.close_shared_pool()
    try:
        readers.start_early(args)
        early = pool.current_pool()
        assert early is not None and early.started == 2
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("共读取 3 个工作簿：评分 3 个")
        assert pool.current_pool() is early and early.started == 2  # no reader started again
    finally:
        pool.close_shared_pool()


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [(None, 0, ""), (3, 3, ""), ("no such folder", 1, "no such folder\n")],
)
def test_the_command_exits_as_sys_exit_would_less_the_tear_down(code, status, stderr):
    """audit_xls.main ends the process with exit_now: atexit handlers run, output is flushed."""
    script = (
        "import atexit; from audit_xls import exit_now\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        f"print('out', end=' '); exit_now({code!r})\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (run.returncode, run.stdout, run.stderr) == (status, "out atexit ran\n", stderr)


def test_the_command_ends_with_exit_now_unless_traced(monkeypatch):
    import audit_xls
    from audit_xls.grading import readers as readers_module

    ended, early = [], []
    monkeypatch.setattr(audit_xls, "exit_now", ended.append)
    monkeypatch.setattr(readers_module, "start_early", early.append)
    monkeypatch.setattr(sys, "gettrace", lambda: None)
    monkeypatch.setattr(sys, "getprofile", lambda: None)
    monkeypatch.setattr(sys, "argv", ["audit-xls", "--version"])
    audit_xls.main()
    assert ended == [0] and early == []  # only `grade` starts readers
    monkeypatch.setattr(sys, "argv", ["audit-xls", "grade", "--help"])
    audit_xls.main()
    assert ended == [0, 0] and early == [["grade", "--help"]]
    monkeypatch.setattr(sys, "getprofile", lambda: print)  # cProfile, as it were
    monkeypatch.setattr(sys, "argv", ["audit-xls", "--version"])
    with pytest.raises(SystemExit) as stop:
        audit_xls.main()
    assert stop.value.code == 0 and ended == [0, 0]  # the profiler's own ending runs


def test_exit_now_waits_for_threads_and_says_a_failed_flush():
    script = (
        "import threading, time, sys; from audit_xls import exit_now\n"
        "def late(): time.sleep(0.3); print('thread done', flush=True)\n"
        "threading.Thread(target=late).start(); exit_now(0)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (run.returncode, run.stdout) == (0, "thread done\n")
    if Path("/dev/full").exists():  # a disk that is full: Python's own exit says 120
        with open("/dev/full", "w") as full:
            run = subprocess.run(
                [sys.executable, "-c", "from audit_xls import exit_now; print('x'); exit_now(0)"],
                stdout=full, timeout=60, check=False,
                env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
            )  # fmt: skip
        assert run.returncode == 120


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc")
def test_the_command_stops_its_readers_on_the_way_out(tmp_path):
    """`audit-xls grade` in a real process: its exit code and words, and no process it
    started (readers, multiprocessing's resource tracker) outlives it for long, however they
    end (told by the atexit handler, or the pipe closed)."""
    folder = tmp_path / "returns"
    folder.mkdir()
    mark = f"AUDIT_XLS_TEST_MARK={uuid.uuid4().hex}".encode()
    run = subprocess.run(
        [sys.executable, "-m", "audit_xls", "grade", str(folder), "--out",
         str(tmp_path / "s.xlsx"), "--jobs", "2", "--no-history"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        env={**os.environ, "AUDIT_XLS_TEST_MARK": mark.decode().partition("=")[2]},
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stdout.startswith("共读取 0 个工作簿")
    assert run.stderr == f"在 {folder} 中没有找到任何文件：请确认交回文件夹是否正确。\n"
    deadline = time.monotonic() + 10
    while (left := _processes_with(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == []


def _processes_with(mark: bytes) -> list[str]:
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            if mark in environ.read_bytes().split(b"\0"):
                found.append(environ.parent.name)
    return found
