"""Months in grading results: a Period in the model, the manifest's text kept as found.

A return's manifest is checksummed but not signed: a forged manifest can name any month. A
month that is not YYYY-MM sends the return back (manifest.period); its result keeps that month
exactly as written (period_text) for the summary, the CSV, --json, the history and the
messages, and a Period (period) only where the text is YYYY-MM.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from returns import fill, issue, mini_standard

from audit_xls.grading.grade import grade_returns
from audit_xls.model.period import Period
from audit_xls.model.results import Missing, WorkbookResult
from audit_xls.workbook import layout as layout_module
from audit_xls.workbook.layout import Layout
from audit_xls.workbook.template import load_template

FAIL_11 = ("不符合", 2, "地面有垃圾")  # 1.1.01


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


def _forge_month(standard, month: str):
    """A change for fill(): the manifest and the cover name `month`, the checksum recomputed
    as a forger would."""
    plan = Layout(standard, load_template("zh"))

    def change(book: openpyxl.Workbook) -> None:
        sheet = book[layout_module.MANIFEST_SHEET]
        keys = layout_module.MANIFEST_KEYS
        values = {key: str(sheet.cell(i + 1, 2).value or "") for i, key in enumerate(keys)}
        values["period"] = month
        sheet.cell(keys.index("period") + 1, 2).value = month
        cover = book[plan.cover_sheet]
        cover.cell(
            layout_module.COVER_ROW["period"] + 1, layout_module.COVER_VALUE_COL + 1
        ).value = month
        rows = tuple((r.index, r.code) for r in plan.rows if r.kind == "criterion")
        checksum = layout_module.manifest_checksum(values, rows)
        sheet.cell(layout_module.MANIFEST_CHECKSUM_ROW + 1, 2).value = checksum

    return change


def test_a_result_keeps_a_forged_month_as_found(tmp_path: Path, standard) -> None:
    from test_history import rows

    from audit_xls.history.store import record_batch
    from audit_xls.outputs.exports import batch_to_json, write_csv
    from audit_xls.outputs.summary import write_summary

    returns = tmp_path / "returns"
    returns.mkdir()
    good = fill(issue(standard, "P001"), standard, {"1.1.01": FAIL_11}, default=("符合", None))
    forged = fill(
        issue(standard, "P002", "江南名苑"),
        standard,
        {"1.1.01": FAIL_11},
        default=("符合", None),
        change=_forge_month(standard, "2026-13 "),
    )
    (returns / "good.xlsx").write_bytes(good)
    (returns / "forged.xlsx").write_bytes(forged)
    batch = grade_returns(returns, [standard], None, jobs=0)
    by_file = {w.file: w for w in batch.workbooks}
    assert (by_file["good.xlsx"].period, by_file["good.xlsx"].period_text) == (
        Period(2026, 11),
        "2026-11",
    )
    forged_result = by_file["forged.xlsx"]
    assert (forged_result.period, forged_result.period_text) == (None, "2026-13 ")
    # no register to hold it against, but no issued workbook names such a month: sent back
    assert forged_result.status == "sent_back"
    assert [(d.code, d.sheet, d.cell, d.render("zh")) for d in forged_result.diagnostics] == [
        (
            "manifest.period",
            "_manifest",
            "B11",
            "隐藏清单（_manifest）的检查月份「2026-13 」不是 YYYY-MM 格式的年月，下发的检查表不会有"
            "这样的月份，清单已被改动：请使用总部下发的原检查表重新填写后发回。",
        )
    ]
    assert forged_result.diagnostics[0].render("en") == (
        'The hidden manifest (_manifest) names the month "2026-13 ", which is not a YYYY-MM'
        " month: no issued workbook has one, so the manifest was altered. Fill in the original"
        " issued workbook again and send it back."
    )
    # shown as found: the CSV, --json and the summary's overview
    write_csv(batch, tmp_path / "r.csv")
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as f:
        months = {(row[0], row[2]) for row in list(csv.reader(f))[1:]}
    assert months == {("forged.xlsx", "2026-13 "), ("good.xlsx", "2026-11")}
    listed = {w["file"]: w["period"] for w in batch_to_json(batch)["workbooks"]}
    assert listed == {"forged.xlsx": "2026-13 ", "good.xlsx": "2026-11"}
    write_summary(batch, tmp_path / "s.xlsx")
    overview = openpyxl.load_workbook(tmp_path / "s.xlsx").worksheets[0]
    assert "2026-11、2026-13 " in [c.value for row in overview.iter_rows() for c in row]
    # recorded as found: the history keeps what the return said
    record_batch(tmp_path / "h.sqlite", batch)
    assert rows(tmp_path / "h.sqlite", "SELECT file, period FROM workbooks ORDER BY file") == [
        ("forged.xlsx", "2026-13 "),
        ("good.xlsx", "2026-11"),
    ]
    # a sent-back return opens no problems
    assert rows(tmp_path / "h.sqlite", "SELECT site_code, period, code FROM problems") == [
        ("P001", "2026-11", "1.1.01")
    ]


def test_text_given_for_a_month_is_read_as_a_manifest_month() -> None:
    result = WorkbookResult("a.xlsx", "h", period="2026-01")
    assert (result.period, result.period_text) == (Period(2026, 1), "2026-01")
    odd = WorkbookResult("b.xlsx", "h", period="２０２６-01")
    assert (odd.period, odd.period_text) == (None, "２０２６-01")
    odd.set_period(Period(2026, 2))
    assert (odd.period, odd.period_text) == (Period(2026, 2), "2026-02")
    assert Missing("W", "P1", "site", "east", "2026-03").period == Period(2026, 3)
    assert json.dumps(str(Period(2026, 3))) == '"2026-03"'


def test_history_check_names_a_ledger_month_it_cannot_read(tmp_path: Path, standard) -> None:
    import sqlite3

    from audit_xls.history.store import record_batch
    from audit_xls.history.tools import check

    returns = tmp_path / "returns"
    returns.mkdir()
    filled = fill(issue(standard, "P001"), standard, {"1.1.01": FAIL_11}, default=("符合", None))
    (returns / "P001.xlsx").write_bytes(filled)
    path = tmp_path / "h.sqlite"
    record_batch(path, grade_returns(returns, [standard], None, jobs=0))
    assert check(path, "en").problems == []
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE problems SET period = '2026-13'")
        (problem,) = conn.execute("SELECT id FROM problems").fetchone()
    assert problem.endswith(":1.1.01")
    assert check(path, "en").problems == [
        f'the month of {problem} in ledger table problems is not YYYY-MM: "2026-13"'
        " (it cannot be read)"
    ]


def test_a_period_goes_into_the_history_as_its_text(history_at: Path | str) -> None:
    """The history's connection writes a Period as its YYYY-MM text (SQLite and PostgreSQL),
    and stored_period reads it back."""
    from audit_xls.history.store import _connect
    from audit_xls.model.period import stored_period

    with _connect(history_at) as conn:
        conn.execute("CREATE TABLE months (period TEXT NOT NULL)")
        conn.execute("INSERT INTO months (period) VALUES (?)", (Period(2026, 11),))
        conn.insert_many("months", ("period",), [(Period(2026, 12),)])
        got = [r[0] for r in conn.execute("SELECT period FROM months ORDER BY period")]
        found = conn.execute("SELECT count(*) FROM months WHERE period <= ?", (Period(2026, 11),))
        assert found.fetchone()[0] == 1
    assert got == ["2026-11", "2026-12"]
    assert [stored_period(m) for m in got] == [Period(2026, 11), Period(2026, 12)]
    assert stored_period(" ２０２６-０２ ") == Period(2026, 2)
