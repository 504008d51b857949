"""Benchmark build: 1000 site workbooks of the shipped standard (run by hand, not in tests).

Prints workbooks/s in memory (1 process) and to a temp dir (1 and 2 processes), and the
ratio to a plain xlsxwriter write of the same cells (same texts, no formats, validations,
formulas or protection) measured in the same run. Target: >= 50 workbooks/s on 2 cores.

Run: .venv/bin/python benchmarks/bench_build.py [N]
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import xlsxwriter

from audit_xls.grading.sites import Site
from audit_xls.model.standard import load_standard
from audit_xls.workbook.build import _plan, build_all, build_workbook, manifest_values
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


def rate(label: str, n: int, seconds: float) -> float:
    per_second = n / seconds
    print(f"{label:<44} {per_second:8.1f} workbooks/s  ({seconds * 1000 / n:6.2f} ms each)")
    return per_second


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    standard = load_standard(ROOT / "standards" / "kefu-dudao.yaml")
    sites = [Site(f"P{i:04d}", f"测试项目{i}号", "华东", "杭州公司", "住宅") for i in range(n)]
    print(
        f"{n} workbooks of {standard.label}: {len(standard.criteria)} criteria, "
        f"{os.cpu_count()} CPUs"
    )
    build_workbook(standard, sites[0], PERIOD, issued_on=ISSUED)  # warm the plan cache

    start = time.perf_counter()
    for site in sites:
        plain_write(standard, site)
    plain = rate("plain xlsxwriter, same texts, in memory", n, time.perf_counter() - start)

    start = time.perf_counter()
    for site in sites:
        build_workbook(standard, site, PERIOD, issued_on=ISSUED)
    memory = rate("build_workbook, in memory, 1 process", n, time.perf_counter() - start)

    results = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory(prefix="audit-xls-bench-") as out:
            start = time.perf_counter()
            build_all(standard, sites, PERIOD, out, issued_on=ISSUED, jobs=jobs)
            results[jobs] = rate(
                f"build_all to a temp dir, {jobs} process{'es' if jobs > 1 else ''}",
                n,
                time.perf_counter() - start,
            )
    print(f"ratio build / plain (in memory, 1 process): {plain / memory:.2f}x slower")
    best = max(results.values())
    print(f"target 50 workbooks/s: {'met' if best >= 50 else 'NOT met'} ({best:.1f}/s)")


if __name__ == "__main__":
    main()
