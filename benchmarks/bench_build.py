"""Benchmark build: site workbooks of the shipped standard (run by hand, not in tests).

In each round, one after the other on the same sites: a plain xlsxwriter write of the same
cell texts (no formats, validations, formulas or protection: what any xlsx writer must at
least do, the baseline), build_workbook in memory (patching the period's stencil), and
build_all into a temp dir in one process (files written atomically, register included).
Each round prints its rates (wall clock) and CPU time a workbook (this process and its
threads: steadier on a shared machine; writing to disk is mostly waiting for fsync, not CPU)
and the ratios to the baseline of that round; then min / median / max over the rounds.
Target (issue 12): >= 200 workbooks/s in one process and >= 1.7x the plain write. The
direct xlsxwriter build (no stencil) is timed once, for reference.

Run: .venv/bin/python benchmarks/bench_build.py [N per round, default 300] [ROUNDS, default 5]
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import xlsxwriter

from audit_xls.grading.sites import Site
from audit_xls.standards.loader import load_standard
from audit_xls.workbook.build import _build, _plan, build_all, build_workbook, manifest_values
from audit_xls.workbook.layout import manifest_grid

ROOT = Path(__file__).resolve().parent.parent
PERIOD = "2026-11"
ISSUED = date(2026, 11, 1)


def plain_write(standard, site: Site) -> bytes:
    """The same cell texts written bare: what any xlsx writer must at least do."""
    plan = _plan(standard, "zh")
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    book.add_worksheet(plan.layout.cover_sheet).write_string(0, 0, site.name)
    sheet = book.add_worksheet(plan.layout.checklist_sheet)
    for (r, c), text in plan.locked_cells.items():
        sheet.write_string(r, c, text)
    for (r, c), formula in plan.checklist_formulas.items():
        sheet.write_string(r, c, formula)
    summary = book.add_worksheet(plan.layout.summary_sheet)
    for (r, c), formula in plan.summary_formulas.items():
        summary.write_string(r, c, formula)
    manifest = book.add_worksheet("_manifest")
    values = manifest_values(standard, site, PERIOD, ISSUED, "zh", plan.fingerprint)
    for r, row in enumerate(manifest_grid(values, plan.layout)):
        for c, value in enumerate(row):
            manifest.write_string(r, c, value)
    book.close()
    return output.getvalue()


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def cpu_timed(run) -> tuple[float, float]:
    """Wall and CPU time (this process, all its threads) of run()."""
    start, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - start, time.process_time() - cpu


def spread(label: str, values: list[float], unit: str) -> None:
    print(
        f"  {label:<30} min {min(values):8.2f}  median {statistics.median(values):8.2f}  "
        f"max {max(values):8.2f} {unit}"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    standard = load_standard(ROOT / "standards" / "kefu-dudao.yaml")
    sites = [Site(f"P{i:04d}", f"测试项目{i}号", "华东", "杭州公司", "住宅") for i in range(n)]
    print(
        f"{n} workbooks of {standard.label} per round, {rounds} rounds: "
        f"{len(standard.criteria)} criteria, {os.cpu_count()} CPUs"
    )
    plan = _plan(standard, "zh")
    first = timed(lambda: build_workbook(standard, sites[0], PERIOD, issued_on=ISSUED))
    print(f"first workbook (writes the stencil and checks it on a probe): {first * 1000:.0f} ms")
    count = max(20, n // 10)
    direct = timed(lambda: [_build(plan, s, PERIOD, ISSUED, None) for s in sites[:count]])
    print(f"direct xlsxwriter build, for reference: {count / direct:.1f} workbooks/s")

    results: dict[str, list[float]] = {}

    def keep(label: str, value: float) -> float:
        results.setdefault(label, []).append(value)
        return value

    with tempfile.TemporaryDirectory(prefix="audit-xls-bench-") as out:
        for k in range(1, rounds + 1):
            plain, plain_cpu = cpu_timed(lambda: [plain_write(standard, s) for s in sites])
            memory, memory_cpu = cpu_timed(
                lambda: [build_workbook(standard, s, PERIOD, issued_on=ISSUED) for s in sites]
            )
            disk, disk_cpu = cpu_timed(
                lambda: build_all(standard, sites, PERIOD, out, issued_on=ISSUED)
            )
            keep("plain xlsxwriter, wall /s", n / plain)
            keep("build in memory, wall /s", n / memory)
            keep("build_all to disk, wall /s", n / disk)
            keep("in memory / plain, wall x", plain / memory)
            keep("to disk / plain, wall x", plain / disk)
            keep("plain xlsxwriter, CPU ms", plain_cpu * 1000 / n)
            keep("build in memory, CPU ms", memory_cpu * 1000 / n)
            keep("build_all to disk, CPU ms", disk_cpu * 1000 / n)
            keep("in memory / plain, CPU x", plain_cpu / memory_cpu)
            print(
                f"round {k}: plain {n / plain:6.1f}/s ({plain_cpu * 1000 / n:5.2f} ms CPU)   "
                f"in memory {n / memory:6.1f}/s ({memory_cpu * 1000 / n:5.2f} ms CPU, "
                f"{plain_cpu / memory_cpu:4.1f}x plain)   to disk {n / disk:6.1f}/s "
                f"({disk_cpu * 1000 / n:5.2f} ms CPU, wall {plain / disk:4.2f}x plain)"
            )
        jobs2 = n / timed(lambda: build_all(standard, sites, PERIOD, out, issued_on=ISSUED, jobs=2))
    print("over the rounds (wall: workbooks/s; CPU: ms a workbook):")
    for label, values in results.items():
        spread(label, values, "")
    print(f"build_all to disk, 2 processes (once): {jobs2:.1f} workbooks/s")
    rate = statistics.median(results["build_all to disk, wall /s"])
    ratio = statistics.median(results["to disk / plain, wall x"])
    print(
        f"target >= 200/s in one process: {'met' if rate >= 200 else 'NOT met'} ({rate:.0f}/s); "
        f">= 1.7x plain: {'met' if ratio >= 1.7 else 'NOT met'} ({ratio:.2f}x)"
    )


if __name__ == "__main__":
    main()
