"""Benchmark grade: 1000 filled returns of the shipped standard (run by hand, not in tests).

Builds and fills the returns once (cached in the temp dir), then measures in interleaved
rounds (default 5), so a busy machine slows candidate and baseline alike:
- `grade` as a user runs it, a whole process: summary, CSV and a new history included,
  `--jobs 2` and `--jobs 1` (the reader processes);
- the baseline: a whole process doing a bare zip + expat parse of every worksheet and the
  shared strings of the same files (the floor any reader pays);
- per workbook, in this process: read + check + score (every safety check) against the bare
  parse of the same bytes, alternating file by file;
- in this process, in CPU, the parts of grade's tail (grading/run.py; where the rest of the
  run goes): the summary workbook (the grading process, after the last result), the results
  CSV's text (made as the results arrive) and writing it out, and a new history (recorded by
  a reader process while the summary is written), each alone.
Each line gives min / median / max and the median of the per-round ratios; the last block
gives issue 12's four figures. Whole processes
are timed by the wall clock and by CPU time (the process and every process it started); on a
shared machine the CPU-time ratios are the steadier ones (time spent waiting for a core is
not counted), the wall clock is what a user waits. The per-workbook loop is timed in CPU.
Targets (issue 12): grade >= 400 workbooks/s and within 2.0x of the bare parse; read + check
+ score within 1.8x of the bare parse; --jobs 2 at least 1.6x faster than --jobs 1.
The whole processes run the package as pip installs it for a user: a wheel of this tree,
byte-compiled, in a throwaway environment that borrows this one's dependencies (a development
checkout's editable install adds an import hook that costs each process, grade and each of its
readers, about 20 ms at start). Before measuring, the hostile
corpus (tests/test_hostile.py) is graded by this same tree and interpreter, so the figures are
of a reader whose every safety check holds (needs pytest; `--no-hostile` skips it).

Run: .venv/bin/python benchmarks/bench_grade.py [N] [ROUNDS] [--no-hostile]
     .venv/bin/python benchmarks/bench_grade.py --bare FOLDER   (the baseline process)
"""

from __future__ import annotations

import atexit
import io
import os
import random
import re
import resource
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from xml.parsers import expat

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "standards" / "kefu-dudao.yaml"
PERIOD = "2026-11"


def _inline(ref: str, style: str, text: str) -> bytes:
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def fill_xml(data: bytes, standard, seed: int) -> bytes:
    """Fill input cells by editing the sheet XML: what a supervisor's save leaves, but fast."""
    from audit_xls.workbook import layout
    from audit_xls.workbook.layout import Layout
    from audit_xls.workbook.template import load_template

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
    from audit_xls.grading.sites import Site
    from audit_xls.standards.loader import load_standard
    from audit_xls.workbook.build import build_workbook

    i, folder = args
    standard = load_standard(STANDARD)
    site = Site(f"P{i:05d}", f"项目{i}", f"区域{i % 7}")
    data = build_workbook(standard, site, PERIOD, issued_on=date(2026, 11, 1))
    Path(folder, f"{PERIOD}_{site.code}.xlsx").write_bytes(fill_xml(data, standard, i))


def prepare(n: int) -> Path:
    from audit_xls.standards.loader import load_standard
    from audit_xls.workbook.layout import Layout
    from audit_xls.workbook.template import load_template

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


def bare_main(folder: str) -> None:
    """The baseline as a whole process: list the folder, read and bare-parse every file."""
    total = 0
    for path in sorted(Path(folder).rglob("*.xlsx")):
        total += bare_parse(path.read_bytes())
    print(total)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_pair(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of two copies of `command` started at once: with the bare
    parse alone beside it, what two cores give this run (a shared host may give less than 2x)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    both = [subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=cwd) for _ in range(2)]
    for process in both:
        process.wait()
    return time.perf_counter() - started, _children_cpu() - cpu


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and every process it started), run in `cwd`
    (not the checkout, whose audit_xls folder `python -m` would import before the wheel)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    seconds = time.perf_counter() - started
    if done.returncode not in (0,):
        sys.exit(f"{' '.join(command[:4])}... failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, _children_cpu() - cpu


def spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"min {low * scale:.2f} / median {mid * scale:.2f} / max {high * scale:.2f} {unit}"


def installed_python() -> str:
    """A Python running the package as `pip install` leaves it: a wheel of this tree, in a
    throwaway virtual environment whose only other path is this one's site-packages (the
    dependencies), so that no editable-install hook runs at start."""
    env = Path(tempfile.mkdtemp(prefix="audit-xls-bench-env-"))
    atexit.register(shutil.rmtree, env, ignore_errors=True)  # ~3 MB a run, not kept
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", packages]
    subprocess.run([*pip, str(ROOT)], check=True, capture_output=True)
    Path(packages, "bench-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return str(python)


def hostile_corpus() -> None:
    """Grade the hostile corpus with this tree and interpreter; stop when any case fails."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_hostile.py"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    last = (done.stdout.strip().splitlines() or ["no output"])[-1]
    if done.returncode != 0:
        sys.exit(f"the hostile corpus failed here, so no figure would be of a safe reader: {last}")
    print(f"hostile corpus (tests/test_hostile.py) in this environment: {last} "
          f"({time.perf_counter() - started:.0f} s)")  # fmt: skip


def main() -> None:
    if sys.argv[1:2] == ["--bare"]:
        bare_main(sys.argv[2])
        return
    args = [a for a in sys.argv[1:] if a != "--no-hostile"]
    n = int(args[0]) if args else 1000
    rounds = int(args[1]) if len(args) > 1 else 5
    if "--no-hostile" not in sys.argv:
        hostile_corpus()
    folder = prepare(n)
    from audit_xls.grading.grade import grade_returns
    from audit_xls.grading.validate import Checker
    from audit_xls.history.store import record_batch
    from audit_xls.outputs.exports import write_csv
    from audit_xls.outputs.summary import write_summary
    from audit_xls.standards.loader import load_standard
    from audit_xls.workbook.read import read_workbook

    files = sorted(folder.glob("*.xlsx"))
    standard = load_standard(STANDARD)
    blobs = [p.read_bytes() for p in files]
    size = sum(map(len, blobs)) / n / 1024
    print(f"{n} returns, {len(standard.criteria)} criteria, {size:.0f} KB avg, "
          f"{os.cpu_count()} CPUs, {rounds} interleaved rounds")  # fmt: skip

    checker = Checker([standard], standards_folder=str(STANDARD.parent))

    def ours_one(i: int, data: bytes) -> bool:
        raw = read_workbook(data)
        validated = checker.check(raw, str(i))
        raw.release()
        return validated.card is not None and not validated.has_errors

    def per_workbook() -> tuple[float, float, int]:
        """Ours and the bare parse alternating file by file, in CPU time of this process:
        both see the same machine, and time spent waiting for a core is not counted."""
        ours = bare = 0.0
        graded = 0
        clock = time.process_time
        for i, data in enumerate(blobs):
            started = clock()
            graded += ours_one(i, data)
            middle = clock()
            bare_parse(data)
            ours, bare = ours + middle - started, bare + clock() - middle
        return ours / n, bare / n, graded

    if per_workbook()[2] != n:
        sys.exit("not every return was graded, so the figures would mislead")
    out = Path(tempfile.mkdtemp(prefix="audit-xls-bench-out-"))
    python = installed_python()  # grade, its readers and the bare parse alike
    batch = grade_returns(folder, [standard], None, jobs=0, standards_folder=str(STANDARD.parent))

    def outputs(index: int) -> dict[str, float]:
        """CPU of the parts of grade's tail, in this process, for the same 1000 results: the
        summary workbook, the CSV's text and its writing, the history (a new one)."""
        from audit_xls.outputs.exports import CsvLines

        clock = time.process_time
        spent = {}
        started = clock()
        write_summary(batch, out / f"o{index}.xlsx")
        spent["summary"], started = clock() - started, clock()
        lines = CsvLines()
        made = {id(w): lines.of(w) for w in batch.workbooks}
        spent["CSV text"], started = clock() - started, clock()
        write_csv(batch, out / f"o{index}.csv", made=made)
        spent["CSV written"], started = clock() - started, clock()
        record_batch(str(out / f"o{index}.sqlite"), batch)
        spent["history"] = clock() - started
        return spent

    def grade(jobs: int, index: int) -> list[str]:
        name = f"{index}-{jobs}"
        return [python, "-m", "audit_xls", "grade", str(folder),
                "--standards", str(ROOT / "standards"), "--out", str(out / f"s{name}.xlsx"),
                "--csv", str(out / f"r{name}.csv"), "--history", str(out / f"h{name}.sqlite"),
                "--jobs", str(jobs)]  # fmt: skip

    whole2: list[tuple[float, float]] = []
    whole1: list[tuple[float, float]] = []
    base: list[tuple[float, float]] = []
    pair: list[tuple[float, float]] = []
    per_ours: list[float] = []
    per_bare: list[float] = []
    after: dict[str, list[float]] = {}
    for index in range(rounds):
        steps = [
            (whole2, grade(2, index)),
            (base, [python, __file__, "--bare", str(folder)]),
            (whole1, grade(1, index)),
        ]
        steps.append((pair, [python, __file__, "--bare", str(folder)]))
        random.Random(index).shuffle(steps)  # no measure always runs first or last
        for into, command in steps:
            into.append(timed_pair(command, out) if into is pair else timed(command, out))
        ours, bare, _ = per_workbook()
        per_ours.append(ours)
        per_bare.append(bare)
        for key, value in outputs(index).items():
            after.setdefault(key, []).append(value)
        print(f"round {index + 1}: wall (CPU) grade --jobs 2 {whole2[-1][0]:.2f} s "
              f"({whole2[-1][1]:.2f} s), --jobs 1 {whole1[-1][0]:.2f} s ({whole1[-1][1]:.2f} s), "
              f"bare process {base[-1][0]:.2f} s ({base[-1][1]:.2f} s); per workbook CPU "
              f"{per_ours[-1] * 1000:.2f} ms vs bare {per_bare[-1] * 1000:.2f} ms")  # fmt: skip

    def ratio(a: list[float], b: list[float]) -> str:
        values = [x / y for x, y in zip(a, b, strict=True)]
        each = " ".join(f"{v:.2f}" for v in values)
        return f"ratio per round {each}, median {statistics.median(values):.2f}x"

    def median_ratio(a: list[float], b: list[float]) -> str:
        return f"{statistics.median(x / y for x, y in zip(a, b, strict=True)):.2f}x"

    def wall(values: list[tuple[float, float]]) -> list[float]:
        return [v[0] for v in values]

    def cpu(values: list[tuple[float, float]]) -> list[float]:
        return [v[1] for v in values]

    rate = n / statistics.median(wall(whole2))
    print(f"grade --jobs 2 (summary + CSV + history), whole process, wall: {spread(wall(whole2))}"
          f" = {rate:.0f} workbooks/s (median)   target >= 400/s")  # fmt: skip
    print(f"  CPU (grader and readers): {spread(cpu(whole2))}")
    print(f"bare zip + expat parse, whole process, wall: {spread(wall(base))}; "
          f"CPU: {spread(cpu(base))}")  # fmt: skip
    print(f"  grade / bare, wall: {ratio(wall(whole2), wall(base))}   target <= 2.0x")
    print(f"  grade / bare, CPU: {ratio(cpu(whole2), cpu(base))}")
    print(f"grade --jobs 1, wall: {spread(wall(whole1))}; CPU: {spread(cpu(whole1))}")
    print(f"  --jobs 1 / --jobs 2, wall: {ratio(wall(whole1), wall(whole2))}   target >= 1.6x")
    busy = [c / w for w, c in whole2]
    # with both cores busy from start to end, --jobs 2 takes its CPU time / 2: what --jobs 1
    # would then be against it. What keeps that below 2 is the CPU spent besides reading.
    bound = [w1 / (c2 / 2) for (w1, _), (_, c2) in zip(whole1, whole2, strict=True)]
    print(
        f"  cores busy during --jobs 2 (its CPU / its wall): {' '.join(f'{b:.2f}' for b in busy)},"
        f" median {statistics.median(busy):.2f}; were both busy throughout, --jobs 1 / --jobs 2"
        f" would be {statistics.median(bound):.2f}x (median)"
    )
    ceiling = [2 * a / b for a, b in zip(wall(base), wall(pair), strict=True)]
    print(
        f"  what two cores gave this run: two bare parses at once against one, "
        f"{' '.join(f'{c:.2f}' for c in ceiling)}, median {statistics.median(ceiling):.2f}x"
    )
    print(f"read + check + score, CPU: {spread(per_ours, 'ms', 1000)} per workbook")
    print(f"bare parse, CPU: {spread(per_bare, 'ms', 1000)} per workbook")
    print(f"  ours / bare: {ratio(per_ours, per_bare)}   target <= 1.8x")
    parts = ", ".join(f"{key} {statistics.median(values):.2f} s" for key, values in after.items())
    print(f"grade's tail, each part alone (CPU, median, in this process): {parts}; in a run the"
          " CSV text is made as results arrive, the history recorded by a reader process beside"
          " the summary")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest peak RSS of one process the bench started (grade, reader, bare, and the "
          f"hostile corpus's pytest unless --no-hostile): {peak:.0f} MB")  # fmt: skip
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nissue 12's four figures (medians of {rounds} interleaved rounds; load average now "
        f"{load:.1f}: above ~0.5 another process shared the cores, trust the CPU ratios):"
    )
    print(f"  1. grade --jobs 2, end to end: {rate:.0f} workbooks/s   target >= 400/s")
    print(
        f"  2. grade / whole-process bare parse: wall {median_ratio(wall(whole2), wall(base))}, "
        f"CPU {median_ratio(cpu(whole2), cpu(base))}   target <= 2.0x"
    )
    print(
        f"  3. read + check + score / bare parse (CPU): {median_ratio(per_ours, per_bare)}"
        f"   target <= 1.8x"
    )
    print(
        f"  4. --jobs 2 / --jobs 1 speed (wall): {median_ratio(wall(whole1), wall(whole2))}"
        f"   target >= 1.6x (two bare parses at once: "
        f"{statistics.median(2 * a / b for a, b in zip(wall(base), wall(pair), strict=True)):.2f}x"
        f" of one, what the cores allowed)"
    )


if __name__ == "__main__":
    main()
