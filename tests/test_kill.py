"""grade killed with SIGKILL at random points (the grading process and its readers), then run
again: the history passes every integrity check and counts each return once, and an output
under its final name is always complete (outputs are written beside and renamed)."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from returns import fill

from audit_xls.grading.sites import Site
from audit_xls.history import tools
from audit_xls.workbook.build import build_all

ROOT = Path(__file__).resolve().parent.parent
RETURNS = 30
KILLS = 3


def complete_outputs(out: Path) -> None:
    """Whatever carries a final name opens whole; temporary files are hidden (.name.x.tmp)."""
    summary, results = out / "summary.xlsx", out / "results.csv"
    if summary.exists():
        openpyxl.load_workbook(summary, read_only=True).close()
    if results.exists():
        with results.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert rows and len({r["file"] for r in rows}) == RETURNS
    assert all(p.name.startswith(".") for p in out.iterdir() if p not in (summary, results))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL are POSIX")
def test_grade_killed_at_random_points_then_run_again(shipped_standard, tmp_path):
    issued = tmp_path / "issued"
    sites = [Site(f"S{i:03d}", f"项目{i}", "华东") for i in range(RETURNS)]
    build_all(shipped_standard, sites, "2026-11", issued, issued_on=date(2026, 11, 1))
    returns = tmp_path / "returns"
    returns.mkdir()
    for i, path in enumerate(sorted(issued.glob("*.xlsx"))):
        answers = {"1.1.01": ("不符合", 1 + i % 3, "问题")} if i % 2 else {}
        data = fill(path.read_bytes(), shipped_standard, answers, default=("符合", None))
        (returns / path.name).write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    history = tmp_path / "history.sqlite"
    command = [sys.executable, "-m", "audit_xls", "grade", str(returns),
               "--standards", str(ROOT / "standards"), "--issued", str(issued / "issued-2026-11.csv"),
               "--out", str(out / "summary.xlsx"), "--csv", str(out / "results.csv"),
               "--history", str(history), "--jobs", "2"]  # fmt: skip

    started = time.perf_counter()
    first = subprocess.run(command, capture_output=True, text=True, check=False)
    whole = time.perf_counter() - started
    assert first.returncode == 0, first.stderr
    history.unlink()
    for path in out.iterdir():
        path.unlink()

    rng = random.Random(20261112)
    for delay in sorted(rng.uniform(0.05, whole) for _ in range(KILLS)):
        run = subprocess.Popen(
            command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        os.killpg(run.pid, signal.SIGKILL)  # the grading process and its reader processes
        run.wait()
        complete_outputs(out)
        if history.exists():
            assert tools.check(history).problems == []

    again = subprocess.run(command, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    complete_outputs(out)
    report = tools.check(history)
    assert report.problems == []
    assert [(c["graded"], c["sent_back"], c["issued"]) for c in report.counts] == [
        (RETURNS, 0, RETURNS)
    ]
