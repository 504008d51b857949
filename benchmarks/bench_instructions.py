"""Instructions per workbook: read + check + score against the bare parse (run by hand).

Wall and CPU time swing by a fifth on a shared machine; the number of instructions a
process executes does not. Each side runs in its own process under valgrind's callgrind
(PYTHONHASHSEED fixed), once over 1 return and once over 1 + K, so the start, the imports
and the first file's memos fall out of the difference. Interpreted Python runs fewer
instructions a cycle than zlib and expat, so the CPU-time ratio (bench_grade.py) is higher
than this one; this one says whether a change made less work, whatever the load.

Needs valgrind (Linux; `apt-get install valgrind`) and bench_grade.py's returns.
Run: .venv/bin/python benchmarks/bench_instructions.py [K] [PARTS...]
     PARTS: any of ours, read, bare (default all three); K default 40.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import bench_grade

MODES = ("ours", "read", "bare")
COLLECTED = re.compile(rb"Collected : (\d+)")


def run(mode: str, folder: Path, count: int) -> None:
    """The measured process: `count` returns, from the 201st on, the first one warming up."""
    from audit_xls.grading.validate import Checker
    from audit_xls.standards.loader import load_standard
    from audit_xls.workbook.read import read_workbook

    blobs = [p.read_bytes() for p in sorted(folder.glob("*.xlsx"))[200 : 200 + count]]
    standard = load_standard(bench_grade.STANDARD)
    checker = Checker([standard], standards_folder=str(bench_grade.STANDARD.parent))
    for index, data in enumerate(blobs):
        if mode == "bare":
            bench_grade.bare_parse(data)
            continue
        raw = read_workbook(data)
        if mode == "ours":
            validated = checker.check(raw, str(index))
            if validated.card is None or validated.has_errors:
                sys.exit(f"return {index} was not graded: the count would mislead")


def instructions(mode: str, folder: Path, count: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + os.devnull,
               sys.executable, __file__, "--run", mode, str(folder), str(count)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, env=os.environ | {"PYTHONHASHSEED": "0"})
    found = COLLECTED.search(done.stderr)
    if done.returncode or found is None:
        sys.exit(done.stderr.decode(errors="replace")[-2000:])
    return int(found.group(1))


def main() -> None:
    if sys.argv[1:2] == ["--run"]:
        run(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Linux: apt-get install valgrind)")
    args = sys.argv[1:]
    k = int(args.pop(0)) if args and args[0].isdigit() else 40
    modes = args or list(MODES)
    folder = bench_grade.prepare(max(1000, 201 + k))
    per_file = {}
    for mode in modes:
        per_file[mode] = (instructions(mode, folder, 1 + k) - instructions(mode, folder, 1)) / k
        print(f"{mode:5} {per_file[mode] / 1e6:7.2f} M instructions a workbook", flush=True)
    if "bare" in per_file:
        for mode in ("ours", "read"):
            if mode in per_file:
                print(f"{mode} / bare: {per_file[mode] / per_file['bare']:.2f}x")


if __name__ == "__main__":
    main()
