"""The history's messages in English (issue 10): each one through its public call or the CLI,
word for word, with no Chinese but the user's data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_history import three_months

from audit_xls.cli import cli
from audit_xls.history import store as history
from audit_xls.history import tools
from audit_xls.history.store import HistoryError, RecordSummary, load_history, record_batch


def test_record_summary_in_english(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    summary = record_batch(path, three_months()[0])
    assert summary.message("en") == (
        f"History {path}: 3 recorded (3 graded, 0 sent back), 0 already there, "
        "0 superseded by a resubmission."
    )
    regraded = RecordSummary(path, 2, 1, 4, 1, 0, regraded=2)
    assert regraded.message("en") == (
        f"History {path}: 3 recorded (2 graded, 1 sent back), 4 already there, "
        "1 superseded by a resubmission, 2 sent back before and graded now."
    )
    assert regraded.message() == (
        f"历史库 {path}：新记录 3 份（评分 2，退回 1），已记录过 4 份，被重新提交替代 1 份，"
        "此前退回、现已评分 2 份。"
    )


def test_a_missing_history_for_the_readers_in_english(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    with pytest.raises(HistoryError) as error:
        load_history(path)
    assert error.value.text("en") == (
        f"History {path} does not exist: first grade with audit-xls grade --history {path} "
        "to record results."
    )


def test_a_file_without_a_schema_version_in_english(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x)")
    conn.close()
    with pytest.raises(HistoryError) as error:
        load_history(path)
    assert error.value.text("en") == (
        f"The history {path} is not an audit-xls history (it has no schema version): "
        "pass --history the file grade records its results in."
    )
    assert str(error.value) == (
        f"历史库 {path} 不是 audit-xls 的历史库（没有结构版本号）："
        "请用 --history 指定 grade 记录结果的那个文件。"
    )


def test_tables_missing_are_listed_the_english_way(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    record_batch(path, three_months()[0])
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE issued")
        conn.execute("DROP TABLE diagnostics")
    conn.close()
    with pytest.raises(HistoryError) as error:
        load_history(path)
    lacking = [t for t in history.expected_columns() if t in ("issued", "diagnostics")]
    assert error.value.text("en") == (
        f"The history {path} is not an audit-xls history (tables or columns missing: "
        f"{lacking[0]}, {lacking[1]}): pass --history the file grade records its results in."
    )
    assert str(error.value) == (
        f"历史库 {path} 不是 audit-xls 的历史库（缺少表或列：{lacking[0]}、{lacking[1]}）："
        "请用 --history 指定 grade 记录结果的那个文件。"
    )


def test_monthly_on_an_older_history_in_english(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with sqlite3.connect(path) as conn:  # as if version 1 had no `issued` table yet
        conn.executescript(history.MIGRATIONS[0].split("CREATE TABLE issued")[0])
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    result = CliRunner().invoke(
        cli, ["monthly", "--lang", "en", "--history", str(path), "--out", str(tmp_path / "m.xlsx")]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: The history {path} has schema version 1, older than this program's "
        f"{history.SCHEMA_VERSION}: run audit-xls grade --history {path} once (grading the same "
        "files again will do; nothing is recorded twice) and it upgrades the history; monthly "
        "only reads the history and never changes it.\n"
    )


def test_history_tools_speak_english_with_lang_en(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    result = CliRunner().invoke(
        cli, ["history", "migrate", "--lang", "en", "--from", str(missing), "--to", "x.sqlite"]
    )
    assert result.exit_code == 1
    assert result.output == f"Error: History {missing} does not exist: check the path.\n"
    result = CliRunner().invoke(
        cli,
        ["history", "migrate", "--lang", "en", "--from", "postgresql://h/db", "--to", "x.sqlite"],
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: history migrate --from takes a SQLite file; postgresql://h/db is a database "
        "URL: to combine two databases use audit-xls history merge.\n"
    )
    east, into = tmp_path / "east.sqlite", tmp_path / "into.sqlite"
    record_batch(east, three_months()[0])
    result = CliRunner().invoke(
        cli, ["history", "merge", "--lang", "en", str(east), "--into", str(into)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Merged into history {into}: 3 recorded (3 graded, 0 sent back), 0 already there, "
        "0 superseded by a resubmission, 3 issued-register entries added; rectification "
        "ledger: 5 problems, 5 events, 0 notices and 0 replies added.\n"
    )
    lines = tools.check(into).lines("en")
    assert lines[0] == f"History {into} (schema version {history.SCHEMA_VERSION})"
    assert lines[-1] == "Checks passed: no problem found."


def test_history_check_words_its_problems_in_english(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    record_batch(path, three_months()[0])
    with sqlite3.connect(path) as conn:
        first = conn.execute("SELECT min(id) FROM workbooks").fetchone()[0]
        conn.execute("UPDATE workbooks SET score = 'abc' WHERE id = ?", (first,))
    conn.close()
    result = CliRunner().invoke(cli, ["history", "check", "--lang", "en", "--history", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"History {path} (schema version {history.SCHEMA_VERSION})"
    assert lines[-2:] == [
        "1 problem found:",
        f"- Row {first} has a score 'abc' that is not an exact decimal",
    ]
    assert tools.check(path).problems == [f"记录 {first} 的得分 'abc' 不是精确小数"]
