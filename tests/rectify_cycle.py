"""Test helper: the supervision cycle over a few months, on the mini standard of returns.py.

`Cycle` inspects sites (builds, fills and grades their workbooks, recording the history),
issues 整改通知单 and returns them filled the way a site would (`fill_notice`, openpyxl).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
from returns import MINI_YAML, fill

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.register import read_issued
from audit_xls.grading.sites import Site
from audit_xls.history.store import record_batch
from audit_xls.rectify.collect import collect_replies
from audit_xls.rectify.notices import write_notices
from audit_xls.rectify.recheck import plan_rechecks
from audit_xls.standards.loader import load_standard
from audit_xls.workbook.build import build_workbook
from audit_xls.workbook.layout import FIRST_ITEM_ROW

SITES = {
    "P001": Site("P001", "滨江花园", "华东"),
    "P002": Site("P002", "静安公馆", "华东"),
    "P003": Site("P003", "珠江新城", "华南"),
}
OK = ("符合", None)

# (整改状态, 整改措施, 完成日期, 责任人, 说明); None leaves the cell as issued
Answer = tuple[Any, Any, Any, Any, Any]


def fill_notice(
    data: bytes,
    rows: Mapping[int, Answer],
    *,
    responder: Any = "李经理",
    cells: Mapping[tuple[str, str], Any] | None = None,
    change: Callable[[openpyxl.Workbook], None] | None = None,
) -> bytes:
    """Answer the notice's problem rows (0 = the first row) as a site would (a notice of any
    language: its first sheet the cover, its second the problems)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    book.worksheets[0]["B11"] = responder
    sheet = book.worksheets[1]
    for index, answer in rows.items():
        row = FIRST_ITEM_ROW + index + 1
        for col, value in zip((7, 6, 8, 9, 10), answer, strict=True):  # G, F, H, I, J
            if value is not None:
                sheet.cell(row, col).value = value
    for (name, ref), value in (cells or {}).items():
        book[name][ref].value = value
    if change is not None:
        change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Cycle:
    def __init__(
        self, folder: Path, yaml: str = MINI_YAML, history: Path | str | None = None
    ) -> None:
        self.folder = folder
        (folder / "standards").mkdir(parents=True, exist_ok=True)
        (folder / "standards" / "mini.yaml").write_text(yaml, encoding="utf-8")
        self.standard = load_standard(folder / "standards" / "mini.yaml")
        # a SQLite path or a PostgreSQL URL (conftest.history_in)
        self.history: Path | str = folder / "h.sqlite" if history is None else history
        self.inspected = False
        self.issued: dict[tuple[str, str], bytes] = {}
        self.with_rechecks = True  # False: workbooks as build makes them without --history

    def workbook(self, code: str, period: str) -> bytes:
        """The site's workbook of `period`, with its 复查 rows from the history (as build
        --history makes it)."""
        key = (code, period)
        if key not in self.issued:
            first = date(int(period[:4]), int(period[5:]), 1)
            rechecks = (
                plan_rechecks(self.history, self.standard.id, period, [code])
                if self.inspected and self.with_rechecks
                else {}
            )
            self.issued[key] = build_workbook(
                self.standard, SITES[code], period, issued_on=first, recheck=rechecks.get(code, ())
            )
        return self.issued[key]

    def inspect(self, period: str, day: date, answers: Mapping[str, Mapping[str, tuple]],
                cells: Mapping[str, Mapping[tuple[str, str], Any]] | None = None):  # fmt: skip
        """Grade one return per site (answers: code -> criterion -> typed; cells: code ->
        raw cells such as 复查结果), record them."""
        folder = self.folder / "returns" / period
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for code, typed in answers.items():
            data = fill(self.workbook(code, period), self.standard, typed, default=OK,
                        inspection_date=day, cells=(cells or {}).get(code))  # fmt: skip
            (folder / f"{period}_{code}.xlsx").write_bytes(data)
        batch = grade_returns(folder, [self.standard], None)
        assert not batch.sent_back, [d.message for w in batch.sent_back for d in w.errors]
        record_batch(self.history, batch)
        self.inspected = True
        return batch

    def notices(self, period: str, day: date, sites: list[str] | None = None, lang: str = "zh"):
        out = self.folder / "notices" / f"{period}-{day.isoformat()}"
        return write_notices(self.history, period, out, [self.standard], day, sites, lang)

    def notice_bytes(self, written: Any, code: str) -> bytes:
        notice = next(n for n in written.notices if n.site.code == code)
        return (written.register.parent / notice.file).read_bytes()

    def collect(self, files: Mapping[str, bytes], today: date, register: Path | None = None,
                name: str = "replies"):  # fmt: skip
        folder = self.folder / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for file, data in files.items():
            (folder / file).write_bytes(data)
        issued = read_issued(register) if register else None
        return collect_replies(
            folder, self.history, issued=issued, today=today, photos=self.folder / "photos"
        )
