"""Benchmark the history on PostgreSQL beside SQLite: recording and monthly.

1. record: one batch of RETURNS returns of the shipped standard (bench_report.make_batch: 95%
   graded, 5% sent back) recorded by record_batch into a fresh SQLite file and a fresh
   PostgreSQL database, in interleaved rounds; again with the rectification ledger's hook
   (rectify/ledger.record_found) stubbed, to show the grading tables' own share.
   BENCH_RECORD_ONLY=1 stops after this part.
2. monthly: a history of SITES sites x MONTHS months (every site graded every month) made once
   in SQLite, copied to PostgreSQL by `history migrate` (timed once), then, in interleaved
   rounds, load_history (all rows) and the whole `audit-xls monthly --out` command on each.

The server: $AUDIT_XLS_TEST_POSTGRES (a URL where databases may be created), else a throwaway
cluster started here (tests/pgcluster.py; needs the PostgreSQL server binaries).

Run: .venv/bin/python benchmarks/bench_history.py [RETURNS 10000] [SITES 1000] [MONTHS 24]
     [ROUNDS 2]
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

from bench_report import make_batch  # noqa: E402

from audit_xls.history.store import load_history, record_batch  # noqa: E402
from audit_xls.history.tools import migrate  # noqa: E402
from audit_xls.model.results import GRADED, BatchResult, WorkbookResult  # noqa: E402
from audit_xls.model.score import FAIL, NA, PASS, Answer, score  # noqa: E402
from audit_xls.rectify import ledger  # noqa: E402
from audit_xls.standards.loader import load_standard  # noqa: E402

AUDIT_XLS = Path(sys.executable).with_name("audit-xls")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北")


def server() -> tuple[str, Callable[[], None]]:
    url = os.environ.get("AUDIT_XLS_TEST_POSTGRES")
    if url:
        return url, lambda: None
    import pgcluster

    folder = Path(tempfile.mkdtemp(prefix="audit-xls-bench-pg-"))
    environment = pgcluster.start(folder)
    os.environ.update(environment)
    return environment["AUDIT_XLS_TEST_POSTGRES"], lambda: pgcluster.stop(folder)


def new_database(admin: str) -> str:
    import psycopg
    from conftest import with_database

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return with_database(admin, name)


def drop_database(admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def months(count: int) -> list[str]:
    year, month = 2026, 11
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def monthly_history(sites: int, month_count: int, folder: Path) -> Path:
    """SITES x MONTHS graded returns of the shipped standard, one batch a month (SQLite)."""
    standard = load_standard(ROOT / "standards" / "kefu-dudao.yaml")
    path = folder / f"monthly-{sites}x{month_count}.sqlite"
    rng = random.Random(12)
    for period in months(month_count):
        workbooks = []
        for n in range(sites):
            answers = {}
            for criterion in standard.criteria:
                roll = rng.random()
                if roll < 0.10:
                    answers[criterion.code] = Answer(FAIL, rng.randint(1, 3), "问题")
                elif roll < 0.15:
                    answers[criterion.code] = Answer(NA)
                else:
                    answers[criterion.code] = Answer(PASS)
            workbooks.append(
                WorkbookResult(
                    file=f"{period}/S{n:04d}.xlsx",
                    file_hash=f"{period}-{n:058d}",
                    status=GRADED,
                    workbook_id=f"S{n:04d}-{period}",
                    site_code=f"S{n:04d}",
                    site_name=f"项目{n}",
                    region=REGIONS[n % 6],
                    period=period,
                    standard=standard,
                    answers=answers,
                    card=score(standard, answers),
                )
            )
        when = datetime.fromisoformat(f"{period}-28T10:00:00")
        record_batch(path, BatchResult(workbooks, [], [], None, when))
    return path


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def line(label: str, sqlite: list[float], postgres: list[float]) -> str:
    s, p = statistics.median(sqlite), statistics.median(postgres)
    return (
        f"{label:<34} SQLite median {s:7.2f} s (min {min(sqlite):.2f}, max {max(sqlite):.2f})"
        f"   PostgreSQL median {p:7.2f} s (min {min(postgres):.2f}, max {max(postgres):.2f})"
        f"   PostgreSQL/SQLite {p / s:.2f}"
    )


def main() -> None:
    args = [int(a) for a in sys.argv[1:5]]
    defaults = [10000, 1000, 24, 2]
    returns, sites, month_count, rounds = args + defaults[len(args) :]
    admin, stop = server()
    try:
        folder = Path(tempfile.mkdtemp(prefix="audit-xls-bench-history-"))
        batch = make_batch(returns)
        import pandas  # noqa: F401  (imported before timing: both backends read into pandas)

        record = {"sqlite": [], "postgres": []}
        bare = {"sqlite": [], "postgres": []}  # the rectification ledger's hook stubbed
        real_hook = ledger.record_found
        for r in range(rounds):
            for times, hook in ((record, real_hook), (bare, lambda *_: 0)):
                ledger.record_found = hook
                try:
                    path = folder / f"record{r}-{len(times['sqlite'])}-{id(times)}.sqlite"
                    times["sqlite"].append(timed(lambda path=path: record_batch(path, batch)))
                    url = new_database(admin)
                    times["postgres"].append(timed(lambda url=url: record_batch(url, batch)))
                    drop_database(admin, url)
                finally:
                    ledger.record_found = real_hook
            print(
                f"record round {r + 1}: SQLite {record['sqlite'][-1]:.2f} s, "
                f"PostgreSQL {record['postgres'][-1]:.2f} s; without the ledger: SQLite "
                f"{bare['sqlite'][-1]:.2f} s, PostgreSQL {bare['postgres'][-1]:.2f} s",
                file=sys.stderr,
            )
        if os.environ.get("BENCH_RECORD_ONLY"):
            print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
            print(line(f"record {returns} returns (1 batch)", record["sqlite"], record["postgres"]))
            print(line("  of which grading tables only", bare["sqlite"], bare["postgres"]))
            return
        made = time.perf_counter()
        history = monthly_history(sites, month_count, folder)
        made = time.perf_counter() - made
        url = new_database(admin)
        migrated = timed(lambda: migrate(history, url))
        load = {"sqlite": [], "postgres": []}
        command = {"sqlite": [], "postgres": []}
        for r in range(rounds):
            for name, where in (("sqlite", str(history)), ("postgres", url)):
                load[name].append(timed(lambda where=where: load_history(where)))
                out = folder / f"m-{name}-{r}.xlsx"
                command[name].append(
                    timed(
                        lambda where=where, out=out: subprocess.run(
                            [str(AUDIT_XLS), "monthly", "--history", where, "--out", str(out)],
                            check=True,
                            capture_output=True,
                        )
                    )
                )
            print(f"monthly round {r + 1} done", file=sys.stderr)
        drop_database(admin, url)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        print(line(f"record {returns} returns (1 batch)", record["sqlite"], record["postgres"]))
        print(line("  without the rectification ledger", bare["sqlite"], bare["postgres"]))
        print(f"history of {sites} sites x {month_count} months: made in SQLite in {made:.1f} s")
        print(f"  history migrate to PostgreSQL: {migrated:.1f} s")
        print(line(f"load_history {sites}x{month_count}", load["sqlite"], load["postgres"]))
        print(
            line(f"audit-xls monthly {sites}x{month_count}", command["sqlite"], command["postgres"])
        )
    finally:
        stop()


if __name__ == "__main__":
    main()
