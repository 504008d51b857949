"""Benchmark grade: 1000 filled returns of the shipped standard (run by hand, not in tests).

Builds and fills the returns once (cached in the temp dir), then times side by side:
- the whole grade (grade_returns + summary workbook + results CSV), 2 threads;
- read + check + score per workbook (1 thread);
- a bare zip + expat parse of the same files' sheet XML (the floor any reader pays);
- a pandas.read_excel(engine="openpyxl") loop over a sample.
Targets: >= 300 workbooks/s whole; read+check+score within 2x of the bare parse and >= 10x
faster than pandas; memory flat in the number of files.

Run: .venv/bin/python benchmarks/bench_grade.py [N]
"""

from __future__ import annotations

import io
import os
import random
import re
import resource
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from xml.parsers import expat

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.sites import Site
from audit_xls.grading.validate import Checker
from audit_xls.model.standard import load_standard
from audit_xls.outputs.exports import write_csv
from audit_xls.outputs.summary import write_summary
from audit_xls.workbook import layout
from audit_xls.workbook.build import build_workbook
from audit_xls.workbook.layout import Layout
from audit_xls.workbook.read import read_workbook
from audit_xls.workbook.template import load_template

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "standards" / "kefu-dudao.yaml"
PERIOD = "2026-11"
PANDAS_SAMPLE = 50


def _inline(ref: str, style: str, text: str) -> bytes:
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def fill_xml(data: bytes, standard, seed: int) -> bytes:
    """Fill input cells by editing the sheet XML: what a supervisor's save leaves, but fast."""
    rng = random.Random(seed)
    plan = Layout(standard, load_template("zh"))
    labels = plan.template.results
    parts = {}
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        for info in src.infolist():
            parts[info.filename] = src.read(info)
    checklist, cover = parts["xl/worksheets/sheet2.xml"], parts["xl/worksheets/sheet1.xml"]
    for criterion in standard.criteria:
        row = plan.criterion_row[criterion.code] + 1
        result = rng.choices(("pass", "fail", "na"), (80, 15, 5))[0]
        g = re.search(rf'<c r="G{row}" s="(\d+)"/>'.encode(), checklist)
        checklist = checklist.replace(g.group(0), _inline(f"G{row}", g.group(1).decode(),
                                                          labels[result]))  # fmt: skip
        if result == "fail":
            h = re.search(rf'<c r="H{row}" s="(\d+)"/>'.encode(), checklist)
            points = f'<c r="H{row}" s="{h.group(1).decode()}"><v>{rng.randint(1, 4)}</v></c>'
            checklist = checklist.replace(h.group(0), points.encode())
            j = re.search(rf'<c r="J{row}" s="(\d+)"/>'.encode(), checklist)
            checklist = checklist.replace(j.group(0), _inline(f"J{row}", j.group(1).decode(),
                                                              "发现问题，已拍照"))  # fmt: skip
    day = (date(2026, 11, 1 + seed % 28) - date(1899, 12, 30)).days
    date_row = layout.COVER_ROW["inspection_date"] + 1
    inspector_row = layout.COVER_ROW["inspector"] + 1
    b = re.search(rf'<c r="B{date_row}" s="(\d+)"/>'.encode(), cover)
    cover = cover.replace(
        b.group(0), f'<c r="B{date_row}" s="{b.group(1).decode()}"><v>{day}</v></c>'.encode()
    )
    b = re.search(rf'<c r="B{inspector_row}" s="(\d+)"/>'.encode(), cover)
    cover = cover.replace(b.group(0), _inline(f"B{inspector_row}", b.group(1).decode(), "张督导"))
    parts["xl/worksheets/sheet2.xml"], parts["xl/worksheets/sheet1.xml"] = checklist, cover
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, part in parts.items():
            dst.writestr(name, part)
    return out.getvalue()


def _make(args: tuple[int, str]) -> None:
    i, folder = args
    standard = load_standard(STANDARD)
    site = Site(f"P{i:05d}", f"项目{i}", f"区域{i % 7}")
    data = build_workbook(standard, site, PERIOD, issued_on=date(2026, 11, 1))
    Path(folder, f"{PERIOD}_{site.code}.xlsx").write_bytes(fill_xml(data, standard, i))


def prepare(n: int) -> Path:
    standard = load_standard(STANDARD)
    # keyed by the layout's fingerprint too: a changed formula makes old returns foreign
    fingerprint = Layout(standard, load_template("zh")).fingerprint[:8]
    key = f"{standard.content_hash[:8]}-{fingerprint}-{n}"
    folder = Path(tempfile.gettempdir()) / f"audit-xls-bench-grade-{key}"
    if folder.is_dir() and len(list(folder.glob("*.xlsx"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_make, [(i, str(folder)) for i in range(n)], chunksize=20))
    print(f"prepared {n} filled returns in {time.perf_counter() - started:.1f} s -> {folder}")
    return folder


def bare_parse(data: bytes) -> int:
    """zipfile + expat over every worksheet and the shared strings: the floor of reading."""
    cells = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml":
                parser = expat.ParserCreate()
                values: list[str] = []
                parser.CharacterDataHandler = values.append
                parser.Parse(archive.read(name), True)
                cells += len(values)
    return cells


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    folder = prepare(n)
    files = sorted(folder.glob("*.xlsx"))
    standard = load_standard(STANDARD)
    blobs = [p.read_bytes() for p in files]
    size = sum(map(len, blobs)) / n / 1024
    cpus = os.cpu_count()
    print(f"{n} returns, {len(standard.criteria)} criteria, {size:.0f} KB avg, {cpus} CPUs")

    # per workbook, 1 thread, bytes already in memory: read + check + score
    checker = Checker([standard], standards_folder=str(STANDARD.parent))
    checker.check(read_workbook(blobs[0]), "warm")
    started = time.perf_counter()
    graded = 0
    for i, data in enumerate(blobs):
        raw = read_workbook(data)
        validated = checker.check(raw, str(i))
        raw.release()
        graded += validated.card is not None and not validated.has_errors
    ours = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for data in blobs:
        bare_parse(data)
    bare = (time.perf_counter() - started) / n
    del blobs

    import pandas as pd

    started = time.perf_counter()
    for path in files[:PANDAS_SAMPLE]:
        pd.read_excel(path, sheet_name=None, engine="openpyxl", header=None)
    pandas = (time.perf_counter() - started) / min(PANDAS_SAMPLE, n)

    rss_before = maxrss_mb()
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        batch = grade_returns(folder, [standard], None, jobs=2)
        graded_at = time.perf_counter()
        write_summary(batch, Path(out) / "summary.xlsx")
        write_csv(batch, Path(out) / "results.csv")
        whole = time.perf_counter() - started
    print(f"graded {len(batch.graded)}/{n} (per-workbook loop graded {graded})")
    if len(batch.graded) != n or graded != n:
        first = next(w for w in batch.workbooks if w.errors)
        sys.exit(f"not every return was graded, so the figures would mislead: {first.errors[0]}")
    print(f"whole grade (2 threads, summary + CSV): {whole:.2f} s = {n / whole:.0f} workbooks/s "
          f"(grading {graded_at - started:.2f} s, outputs {whole - graded_at + started:.2f} s)"
          "   target >= 300/s")  # fmt: skip
    print(f"read + check + score: {ours * 1000:.2f} ms/workbook")
    print(f"bare zip + expat parse: {bare * 1000:.2f} ms/workbook -> ratio {ours / bare:.2f}x"
          "   target <= 2x")  # fmt: skip
    sample = min(PANDAS_SAMPLE, n)
    print(f"pandas.read_excel(openpyxl), {sample} files: {pandas * 1000:.1f} ms/workbook"
          f" -> ours is {pandas / ours:.0f}x faster   target >= 10x")  # fmt: skip
    print(f"peak RSS: {rss_before:.0f} MB before the batch, {maxrss_mb():.0f} MB after it")


if __name__ == "__main__":
    main()
