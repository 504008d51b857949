"""`monthly --lang en`: headers, the notes on the data, words in cells and the --csv files in
English; the --json keys the same in both languages (docs/outputs.md)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_history import V1, batch, build_history, workbook

from audit_xls.cli import cli
from audit_xls.history.monthly import monthly_report
from audit_xls.history.monthly_exports import monthly_to_json, write_monthly_csv
from audit_xls.history.store import record_batch
from audit_xls.model.diagnostics import ERROR, Diagnostic


@pytest.fixture(scope="module")
def history_path(tmp_path_factory) -> Path:
    return build_history(tmp_path_factory.mktemp("monthly-lang") / "h.sqlite")


@pytest.fixture(scope="module")
def reports(history_path):
    return monthly_report(history_path), monthly_report(history_path, lang="en")


def test_english_headers_words_and_version_note(reports) -> None:
    zh, en = reports
    assert list(en.site_rates.columns) == [
        "Site code",
        "Site",
        "Region",
        *map(str, zh.months),
        "vs last month",
    ]
    assert en.region_rates.iloc[-1, 0] == "All sites"
    repeat = en.repeats.iloc[0]
    assert (repeat["Month"], repeat["Problem points by month"]) == (
        "2026-01, 2026-02, 2026-03",
        "2, 1, 2",
    )
    assert en.notes == [
        "Standard T has 2 versions in the months chosen (v1: 2026-01, 2026-02; v2: 2026-03). "
        "Criterion codes do not change between versions, so they are summed by code; "
        "the version used each month is in the Standard version column of Detail."
    ]
    # the same numbers in both languages
    assert (
        en.site_rates.iloc[:, 3:].fillna(-1).to_numpy().tolist()
        == zh.site_rates.iloc[:, 3:].fillna(-1).to_numpy().tolist()
    )


def test_json_keys_do_not_change_with_the_language(reports) -> None:
    zh, en = (monthly_to_json(r) for r in reports)
    for key in [*reports[0].frames(), "versions"]:
        assert [list(row) for row in zh[key]] == [list(row) for row in en[key]], key
    assert en["region_rates"][-1]["region"] == "All sites"
    assert zh["region_rates"][-1]["region"] == "全部项目"
    assert en["notes"] != zh["notes"]


def test_english_csv_names_and_headers(reports, tmp_path: Path) -> None:
    written = write_monthly_csv(reports[1], tmp_path)
    assert sorted(p.name for p in written) == [
        "Detail.csv",
        "Monthly ranking.csv",
        "Region monthly.csv",
        "Repeat problems.csv",
        "Returns.csv",
        "Section monthly.csv",
        "Site changes.csv",
        "Site monthly.csv",
    ]
    text = (tmp_path / "Region monthly.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == [
        "Region,2026-01,2026-02,2026-03,2026-04",
        "华东,91.25,93.75,85.00,",
        "华南,77.50,92.50,90.00,",
        "All sites,86.67,93.13,87.50,",
    ]
    rows = list(csv.reader(io.StringIO((tmp_path / "Returns.csv").read_text("utf-8-sig"))))
    assert rows[0] == [
        "Month",
        "Issued",
        "Returned",
        "Graded",
        "Sent back, not graded",
        "Not returned",
    ]


def test_cli_lang_en_writes_english_csv_and_keeps_json_keys(history_path, tmp_path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "monthly",
            "--history",
            str(history_path),
            "--out",
            str(tmp_path / "m.xlsx"),
            "--csv",
            str(tmp_path / "csv"),
            "--json",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "csv" / "Detail.csv").exists()
    assert not (tmp_path / "csv" / "明细.csv").exists()
    data = json.loads(result.stdout)
    assert data["ranking"][0]["percent"] == 92.5


def test_english_notes_on_odd_periods(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    record_batch(
        path,
        batch(
            [workbook("A", "2026-01", V1, {"1.1.01": 2}), workbook("B", "2026-01", V1, {})],
            [],
            None,
            "2026-02-01T10:00:00",
        ),
    )
    record_batch(path, batch([workbook("A", "2026-02", V1, {})], [], None, "2026-03-01T10:00:00"))
    tampered = workbook("C", "2031-05", V1, {}, unanswered=("1.1.01",))
    tampered.diagnostics = [
        Diagnostic(ERROR, "manifest.tampered", "清单被修改", sheet="_manifest", cell="")
    ]
    foreign = workbook("D", "2026-02", V1, {}, unanswered=("1.1.01",))
    record_batch(path, batch([tampered, foreign], [], None, "2026-03-02T10:00:00"))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE workbooks SET period = '2026-02 ' WHERE file = '2026-02/A.xlsx'")
        conn.execute("UPDATE workbooks SET period = '2026年2月' WHERE file = '2026-02/D.xlsx'")
        conn.execute(
            "INSERT INTO issued VALUES ('x', 'E', 'E项目', '华北', '2099-13', 'T', '1', "
            "'2026-03-02T10:00:00')"
        )
    conn.close()
    assert monthly_report(path, lang="en").notes == [
        "1 record in the history has a month with extra spaces or full-width characters "
        "('2026-02 '): counted as YYYY-MM.",
        "2 records in the history have a month that is not YYYY-MM ('2026年2月', '2099-13'): "
        "counted in no month.",
        "1 sent-back file has a hidden manifest that cannot be trusted (edited, or not issued "
        "by HQ): its site and month are not counted.",
    ]
