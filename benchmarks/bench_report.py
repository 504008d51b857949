"""Time the summary workbook and the results CSV for N graded workbooks of the shipped standard.

Run by hand: .venv/bin/python benchmarks/bench_report.py [N]  (default 1000)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from audit_xls.model.diagnostics import ERROR, Diagnostic
from audit_xls.model.results import GRADED, SENT_BACK, BatchResult, Missing, WorkbookResult
from audit_xls.model.score import FAIL, NA, PASS, Answer, score
from audit_xls.outputs.exports import write_csv
from audit_xls.outputs.summary import write_summary
from audit_xls.standards.loader import load_standard

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北")


def make_batch(count: int, seed: int = 7) -> BatchResult:
    """`count` returns: 95% graded (10% of criteria failed, 5% not applicable), 5% sent back."""
    standard = load_standard(ROOT / "standards" / "kefu-dudao.yaml")
    rng = random.Random(seed)
    workbooks = []
    for n in range(count):
        answers = {}
        for criterion in standard.criteria:
            roll = rng.random()
            if roll < 0.10:
                answers[criterion.code] = Answer(
                    FAIL, rng.randint(1, 4), f"问题 {n}-{criterion.code}"
                )
            elif roll < 0.15:
                answers[criterion.code] = Answer(NA)
            else:
                answers[criterion.code] = Answer(PASS)
        sent_back = n % 20 == 0
        workbooks.append(
            WorkbookResult(
                file=f"returns/S{n:04d}.xlsx",
                file_hash=f"{n:064d}",
                status=SENT_BACK if sent_back else GRADED,
                workbook_id=f"kefu-dudao-1.0-S{n:04d}-2025-05",
                site_code=f"S{n:04d}",
                site_name=f"项目{n}",
                region=REGIONS[n % len(REGIONS)],
                period="2025-05",
                standard=standard,
                answers=answers,
                card=None if sent_back else score(standard, answers),
                diagnostics=[
                    Diagnostic(ERROR, "answer.invalid_points", "问题点数无效", "", "检查表", "H9")
                ]
                if sent_back
                else [],
            )
        )
    missing = [Missing(f"m{n}", f"M{n}", f"未交{n}", REGIONS[n % 6], "2025-05") for n in range(20)]
    return BatchResult(workbooks, [], missing, count + 20, datetime(2025, 6, 3, 9, 0))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    batch = make_batch(count)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for name, write in (("summary", write_summary), ("csv", write_csv)):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                write(batch, out / f"out.{name}")
                times.append(time.perf_counter() - start)
            size = (out / f"out.{name}").stat().st_size
            print(
                f"{name}: {count} workbooks, best {min(times) * 1000:.0f} ms, "
                f"median {sorted(times)[2] * 1000:.0f} ms, {size / 1024:.0f} KiB"
            )


if __name__ == "__main__":
    main()
