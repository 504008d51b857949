"""Benchmark grade's memory: peak RSS of the whole command on 1,000 and 10,000 returns.

Each run is a fresh `audit-xls grade` process (summary and CSV included, no history), so the
figure is what HQ's machine sees. The baseline is the same process importing everything and
grading nothing. Target (issue 12): under 450 MB at 10,000 workbooks, and not growing with the
count beyond the results themselves. The returns come from bench_grade's cache (made on first use).

Run: .venv/bin/python benchmarks/bench_memory.py [N ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_grade import prepare

ROOT = Path(__file__).resolve().parent.parent
AUDIT_XLS = Path(sys.executable).with_name("audit-xls")


def peak_rss_mb(args: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) and wall time (s) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(child.pid, 0)
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    with tempfile.TemporaryDirectory() as out:
        empty = Path(out) / "empty"
        empty.mkdir()
        base, _ = peak_rss_mb([str(AUDIT_XLS), "grade", str(empty), "--out",
                               f"{out}/s0.xlsx", "--no-history"])  # fmt: skip
        print(f"baseline (imports, nothing to grade): {base:.0f} MB")
        for n in counts:
            folder = prepare(n)
            peak, seconds = peak_rss_mb([str(AUDIT_XLS), "grade", str(folder), "--out",
                                         f"{out}/s.xlsx", "--csv", f"{out}/r.csv",
                                         "--no-history"])  # fmt: skip
            print(f"{n:>6} returns: peak {peak:.0f} MB ({peak - base:.0f} MB above baseline, "
                  f"{(peak - base) * 1024 / n:.1f} KB per workbook), {seconds:.1f} s, "
                  f"{n / seconds:.0f} workbooks/s   target < 450 MB at 10,000")  # fmt: skip


if __name__ == "__main__":
    main()
