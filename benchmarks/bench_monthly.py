"""Benchmark monthly: the whole `audit-xls monthly` command on 1,000 sites x 24 months.

The history (24 graded batches of the shipped standard, 1,000 sites issued a month, 95%
returned and graded, 10% of criteria failed, 5% not applicable) is made once and cached in
the temp dir. Each round runs, one after the other, fresh processes of:
- candidate: `audit-xls monthly --history H --out MONTHLY.xlsx` (pivots, workbook, sparklines,
  chart), and
- baseline: a process importing pandas and audit_xls that reads the rows monthly needs with
  plain sqlite3 (every table, only the failed criteria; fetchall): the floor of loading them.
It prints wall time, CPU time (user + system: on a machine shared with other work the wall
time is mostly waiting) and peak RSS of both, and the ratio per round, then min / median /
max. Target (issue 12): under 8 s and under 400 MB for the command.

Run: .venv/bin/python benchmarks/bench_monthly.py [SITES, default 1000] [MONTHS, default 24]
     [ROUNDS, default 3]
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from audit_xls.grading.register import IssuedEntry
from audit_xls.history.store import record_batch
from audit_xls.model.results import GRADED, BatchResult, WorkbookResult
from audit_xls.model.score import FAIL, NA, PASS, Answer, score
from audit_xls.standards.loader import load_standard

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "standards" / "kefu-dudao.yaml"
AUDIT_XLS = Path(sys.executable).with_name("audit-xls")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北")
BARE_READ = """
import sqlite3, sys
import pandas, audit_xls.history.store
conn = sqlite3.connect(sys.argv[1])
for table in ("workbooks", "sections", "diagnostics", "issued"):
    conn.execute(f"SELECT * FROM {table}").fetchall()
conn.execute("SELECT * FROM criteria WHERE result = 'fail'").fetchall()
"""


def months(count: int) -> list[str]:
    year, month = 2026, 11
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def prepare(sites: int, month_count: int) -> Path:
    standard = load_standard(STANDARD)
    key = f"{standard.content_hash[:8]}-{sites}x{month_count}"
    path = Path(tempfile.gettempdir()) / f"audit-xls-bench-monthly-{key}.sqlite"
    if path.exists():
        return path
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    rng = random.Random(12)
    for m, period in enumerate(months(month_count)):
        workbooks, issued = [], []
        for n in range(sites):
            code = f"S{n:04d}"
            workbook_id = f"{code}-{period}"
            issued.append(
                IssuedEntry(
                    workbook_id,
                    code,
                    f"项目{n}",
                    REGIONS[n % 6],
                    "",
                    "",
                    period,
                    standard.id,
                    standard.version,
                    standard.content_hash,
                    f"{period}_{code}.xlsx",
                )
            )
            if rng.random() < 0.05:
                continue  # not returned this month
            answers = {}
            for criterion in standard.criteria:
                roll = rng.random()
                if roll < 0.10:
                    answers[criterion.code] = Answer(FAIL, rng.randint(1, 4), f"问题 {n}-{m}")
                elif roll < 0.15:
                    answers[criterion.code] = Answer(NA)
                else:
                    answers[criterion.code] = Answer(PASS)
            workbooks.append(
                WorkbookResult(
                    file=f"{period}/{code}.xlsx",
                    file_hash=f"{m:04d}{n:060d}",
                    status=GRADED,
                    workbook_id=workbook_id,
                    site_code=code,
                    site_name=f"项目{n}",
                    region=REGIONS[n % 6],
                    period=period,
                    standard=standard,
                    inspector="督导员",
                    answers=answers,
                    card=score(standard, answers),
                )
            )
        graded_at = datetime(int(period[:4]), int(period[5:]), 28, 9, 0)
        record_batch(partial, BatchResult(workbooks, [], [], sites, graded_at, issued))
    partial.rename(path)
    print(f"prepared {sites} sites x {month_count} months in {time.perf_counter() - started:.0f} s")
    return path


def run(args: list[str]) -> tuple[float, float, float]:
    """Wall time (s), CPU time (s) and peak RSS (MB) of one child process; it must succeed."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(
            f"{args[:2]} failed: {child.stderr.read().decode() if child.stderr else ''}"
        )
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def spread(label: str, values: list[float], unit: str) -> None:
    print(
        f"  {label:<30} min {min(values):7.2f}  median {statistics.median(values):7.2f}  "
        f"max {max(values):7.2f} {unit}"
    )


def main() -> None:
    sites = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    month_count = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    history = prepare(sites, month_count)
    print(f"monthly over {sites} sites x {month_count} months ({history}), {os.cpu_count()} CPUs")
    results: dict[str, list[float]] = {}

    def keep(label: str, value: float) -> float:
        results.setdefault(label, []).append(value)
        return value

    with tempfile.TemporaryDirectory() as out:
        for k in range(1, rounds + 1):
            wall, cpu, memory = run([str(AUDIT_XLS), "monthly", "--history", str(history),
                                     "--out", f"{out}/m.xlsx"])  # fmt: skip
            bare_wall, bare_cpu, bare_memory = run([sys.executable, "-c", BARE_READ, str(history)])
            keep("monthly, wall (s)", wall)
            keep("monthly, CPU (s)", cpu)
            keep("monthly, peak RSS (MB)", memory)
            keep("bare read, wall (s)", bare_wall)
            keep("bare read, CPU (s)", bare_cpu)
            keep("bare read, peak RSS (MB)", bare_memory)
            keep("monthly / bare read, CPU (x)", cpu / bare_cpu)
            print(
                f"round {k}: monthly {wall:6.2f} s wall, {cpu:5.2f} s CPU, {memory:4.0f} MB   "
                f"bare read {bare_wall:5.2f} s wall, {bare_cpu:5.2f} s CPU, {bare_memory:4.0f} MB"
                f"   CPU ratio {cpu / bare_cpu:4.2f}x"
            )
    print("over the rounds:")
    for label, values in results.items():
        spread(label, values, "")
    cpu, mb = (
        statistics.median(results["monthly, CPU (s)"]),
        statistics.median(results["monthly, peak RSS (MB)"]),
    )
    print(
        f"target < 8 s (CPU time, what an idle machine's wall time would be): "
        f"{'met' if cpu < 8 else 'NOT met'} ({cpu:.1f} s); "
        f"< 400 MB: {'met' if mb < 400 else 'NOT met'} ({mb:.0f} MB)"
    )


if __name__ == "__main__":
    main()
