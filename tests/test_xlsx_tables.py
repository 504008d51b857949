"""The fast table writer (TableSheet, write_rows) writes the very bytes write_value would."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from xlsxwriter.worksheet import Worksheet

from audit_xls.outputs import xlsx
from audit_xls.outputs.xlsx import Column, add_table_sheet, write_value, write_workbook

COLUMNS = [
    Column("文本", "text"),
    Column("换行", "wrap", 30),
    Column("整数", "int"),
    Column("数值", "num"),
    Column("得分率", "pct"),
    Column("日期", "date"),
    Column("时间", "datetime"),
]
ROWS = [
    ["滨江花园", "多行\n文本", 3, 2.5, 91.25, date(2026, 1, 15), datetime(2026, 2, 1, 9, 30)],
    [None, "", 0, Decimal("1.10"), None, None, None],
    [" 前后空格 ", "_x0041_ 和 \x01", True, -7, 100, date(2026, 12, 31), datetime(2026, 1, 1)],
    ["=1+1", "@SUM(A1)", 12345678901234, 1e-9, 0.1 + 0.2, None, None],
    ["长" * 20000, "x" * 40000, None, None, None, None, None],
    ["滨江花园", "滨江花园", 1, 1.0, 1, None, None],  # repeated strings: shared once
    [3, 4.5, "7", "8.5", "text in a number column", "2026-01-01", ""],
    # scores and rates come as Decimal (stored directly too)
    ["分", "率", Decimal("0"), Decimal("-2.50"), Decimal("87.3333333333333333333"), None, None],
]


def _write(path: Path) -> None:
    def build(book, formats) -> None:  # type: ignore[no-untyped-def]
        sheet = add_table_sheet(book, formats, "表", "T", COLUMNS, ROWS, title="标题", note="说明")
        # after the table: a cell written over a row (a link), a hidden row, a row's format
        sheet.write_url(10, 1, "external:photos/a.jpg", None, "a.jpg")
        sheet.set_row(9, None, None, {"hidden": True})
        sheet.set_row(11, 30, formats.note)
        add_table_sheet(book, formats, "空", "Empty", COLUMNS, [])
        # rows of a sheet whose default height is not Excel's
        add_table_sheet(book, formats, "行高", "Tall", COLUMNS, ROWS[:2]).set_default_row(24)
        # a chart caches the values of a table's range
        chart = book.add_chart({"type": "column"})
        chart.add_series({"categories": ["表", 4, 0, 6, 0], "values": ["表", 4, 2, 6, 2]})
        sheet.insert_chart(0, 8, chart)

    write_workbook(path, build, created=datetime(2026, 1, 1))


def _slow_rows(sheet, first, rows, formats) -> None:  # type: ignore[no-untyped-def]
    for offset, values in enumerate(rows):
        for col, value in enumerate(values):
            write_value(sheet, first + offset, col, value, formats[col])


def test_fast_table_sheets_are_the_bytes_of_cell_by_cell_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "fast.xlsx")
    monkeypatch.setattr(xlsx, "TableSheet", Worksheet)
    monkeypatch.setattr(xlsx, "write_rows", _slow_rows)
    _write(tmp_path / "slow.xlsx")
    fast = zipfile.ZipFile(tmp_path / "fast.xlsx")
    slow = zipfile.ZipFile(tmp_path / "slow.xlsx")
    assert fast.namelist() == slow.namelist()
    for name in fast.namelist():
        assert fast.read(name) == slow.read(name), name
    assert (tmp_path / "fast.xlsx").read_bytes() == (tmp_path / "slow.xlsx").read_bytes()


def test_fast_table_values_read_back(tmp_path: Path) -> None:
    _write(tmp_path / "fast.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO((tmp_path / "fast.xlsx").read_bytes()))["表"]
    assert [c.value for c in sheet[5]] == [
        "滨江花园", "多行\n文本", 3, 2.5, 91.25, datetime(2026, 1, 15), datetime(2026, 2, 1, 9, 30),
    ]  # fmt: skip
    assert [c.value for c in sheet[6]][:4] == [None, None, 0, 1.1]
    assert sheet["A8"].value == "=1+1" and sheet["A8"].data_type == "s"
    assert sheet["C7"].value == "True"
    assert len(sheet["B9"].value) < 40000 and sheet["B9"].value.endswith("…")
