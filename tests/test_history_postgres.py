"""The history in PostgreSQL: migration, merging, checks, concurrent graders, located errors.

Needs a PostgreSQL server (conftest.postgres_server): skips without one, fails instead when
AUDIT_XLS_REQUIRE_POSTGRES=1 (CI). Tests that take `history_at` run on SQLite too.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import socket
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_history import (
    V1,
    V2,
    batch,
    build_history,
    rows,
    sent_back_copy,
    three_months,
    workbook,
)

from audit_xls.cli import cli
from audit_xls.history import tools
from audit_xls.history.backend import open_write
from audit_xls.history.store import HistoryError, check_writable, load_history, record_batch
from audit_xls.model.results import BatchResult, WorkbookResult

FIXTURE = Path(__file__).parent / "data" / "history-0.1.0.sqlite"  # made by release 0.1.0


def monthly_json(location: Path | str, tmp_path: Path) -> dict:
    result = CliRunner().invoke(
        cli,
        ["monthly", "--history", str(location), "--out", str(tmp_path / "m.xlsx"), "--json"],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def current(location: Path | str) -> list[tuple]:
    frames = load_history(location)
    return sorted(
        (r.file, r.file_hash, r.status, r.percent, r.superseded)
        for r in frames.workbooks.itertuples()
    )


# --- migrate --------------------------------------------------------------------------------


def test_a_release_history_moved_to_postgres_gives_the_same_monthly(
    postgres_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "office.sqlite"
    shutil.copy(FIXTURE, source)
    before = source.read_bytes()
    runner = CliRunner()
    first = runner.invoke(cli, ["history", "migrate", "--from", str(source), "--to", postgres_url])
    assert first.exit_code == 0, first.output
    assert "本次复制" in first.stdout
    assert source.read_bytes() == before  # only read
    assert monthly_json(postgres_url, tmp_path) == monthly_json(source, tmp_path)
    assert current(postgres_url) == current(source)
    # Idempotent: run again, nothing is copied twice.
    again = runner.invoke(cli, ["history", "migrate", "--from", str(source), "--to", postgres_url])
    assert again.exit_code == 0, again.output
    assert "本次复制 0 行" in again.stdout
    assert rows(postgres_url, "SELECT count(*) FROM workbooks") == rows(
        source, "SELECT count(*) FROM workbooks"
    )
    # The server numbers new rows after the copied ones: grading goes on in PostgreSQL.
    summary = record_batch(
        postgres_url,
        batch([workbook("A", "2026-05", V2, {"1.1.01": 1})], [], None, "2026-06-01T10:00:00"),
    )
    assert summary.recorded_graded == 1
    assert tools.check(postgres_url).ok


def test_an_interrupted_migration_goes_on_where_it_stopped(
    postgres_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(tools, "CHUNK", 25)
    real = tools.store.writing
    chunks = []

    def stop_midway(conn):
        chunks.append(1)
        if len(chunks) == 6:  # issued: 4 chunks, workbooks: 1 copied
            raise KeyboardInterrupt
        return real(conn)

    monkeypatch.setattr(tools.store, "writing", stop_midway)
    with pytest.raises(KeyboardInterrupt):
        tools.migrate(FIXTURE, postgres_url)
    partial = rows(postgres_url, "SELECT count(*) FROM workbooks")[0][0]
    assert 0 < partial < rows(FIXTURE, "SELECT count(*) FROM workbooks")[0][0]
    monkeypatch.setattr(tools.store, "writing", real)
    summary = tools.migrate(FIXTURE, postgres_url)
    assert summary.copied["workbooks"] == summary.total["workbooks"] - partial
    assert current(postgres_url) == current(FIXTURE)
    assert monthly_json(postgres_url, tmp_path) == monthly_json(FIXTURE, tmp_path)


def test_migrate_refuses_a_database_holding_another_history(
    postgres_url: str, tmp_path: Path
) -> None:
    record_batch(postgres_url, three_months()[0])
    with pytest.raises(HistoryError) as refused:
        tools.migrate(FIXTURE, postgres_url)
    assert "已有不是来自" in str(refused.value)
    assert "audit-xls history merge" in str(refused.value)


# --- merge ----------------------------------------------------------------------------------


def test_merging_offices_is_recording_them_in_grading_order(
    history_at: Path | str, tmp_path: Path
) -> None:
    batches = three_months()
    east, south = tmp_path / "east.sqlite", tmp_path / "south.sqlite"
    for number, b in enumerate(batches):
        record_batch(east if number % 2 == 0 else south, b)
    # An office also graded January's first file again: recorded once.
    record_batch(south, batches[0])
    summary = tools.merge([east, south], history_at)
    serial = build_history(tmp_path / "serial.sqlite")
    assert current(history_at) == current(serial)
    assert summary.already_recorded == 3
    assert (summary.recorded_graded, summary.recorded_sent_back, summary.superseded) == (10, 1, 1)
    assert monthly_json(history_at, tmp_path) == monthly_json(serial, tmp_path)
    # The rectification ledger's open problems follow the merged current results.
    problems = """SELECT p.id FROM problems p WHERE (SELECT e.status FROM problem_events e
                   WHERE e.problem = p.id ORDER BY e.id DESC LIMIT 1) != 'withdrawn'
                  ORDER BY p.id"""
    assert rows(history_at, problems) == rows(serial, problems) != []
    # Merged again: nothing new.
    again = tools.merge([east, south], history_at)
    assert (again.recorded_graded, again.recorded_sent_back, again.issued_added) == (0, 0, 0)


def test_merge_keeps_the_sent_back_then_graded_rule(history_at: Path | str, tmp_path: Path) -> None:
    a = workbook("A", "2026-01", V1, {"1.1.01": 2})
    wrong, right = tmp_path / "wrong.sqlite", tmp_path / "right.sqlite"
    record_batch(wrong, batch([sent_back_copy(a)], [], None, "2026-02-01T10:00:00"))
    record_batch(right, batch([a], [], None, "2026-02-02T10:00:00"))
    tools.merge([right, wrong], history_at)
    assert rows(
        history_at, "SELECT status, superseded FROM workbooks ORDER BY status, superseded"
    ) == [("graded", 0), ("sent_back", 1)]
    assert tools.check(history_at).ok


# --- check ----------------------------------------------------------------------------------


def test_check_counts_and_finds_broken_rules(history_at: Path | str, tmp_path: Path) -> None:
    build_history(history_at)
    report = tools.check(history_at)
    assert report.ok
    assert [(c["period"], c["graded"], c["superseded"], c["sent_back"]) for c in report.counts][
        :3
    ] == [("2026-01", 3, 0, 0), ("2026-02", 4, 1, 0), ("2026-03", 2, 0, 1)]
    with open_write(history_at) as conn:
        conn.execute("UPDATE workbooks SET superseded = 0 WHERE file = '2026-02/A.xlsx'")
    broken = CliRunner().invoke(cli, ["history", "check", "--history", str(history_at)])
    assert broken.exit_code == 1
    assert "项目 月份 标准 A 2026-02 T 有 2 份当前评分结果（应只有 1 份）" in broken.output
    assert "记录 4 的 superseded_by" in broken.output


# --- many graders at once -------------------------------------------------------------------


def office_batches() -> list[BatchResult]:
    """Six offices' folders, overlapping: the same returns in several folders, and the
    resubmission in one folder without its first file (an office that got only the corrected
    copy) and in others with it (older copy marked, as grade does)."""
    months = three_months()
    files: list[WorkbookResult] = [w for b in months for w in b.workbooks]
    first_a = next(w for w in files if w.file == "2026-02/A.xlsx")
    resubmitted = next(w for w in files if w.file == "2026-02/A-v1.xlsx")

    def folder(picks: list[int], when: str) -> BatchResult:
        chosen = [files[i] for i in picks]
        fresh = []
        for w in chosen:
            copy = WorkbookResult(**{f: getattr(w, f) for f in w.__dataclass_fields__})
            if copy.file == first_a.file and resubmitted in chosen:
                copy.duplicate_of = resubmitted.file
            fresh.append(copy)
        return BatchResult(fresh, [], [], None, datetime.fromisoformat(when))

    return [
        folder([0, 1, 2, 3, 4], "2026-03-01T10:00:00"),
        folder([3, 4, 5, 6, 7], "2026-03-02T10:00:00"),
        folder([6, 7, 8, 9, 10], "2026-03-03T10:00:00"),
        folder([0, 2, 4, 6, 8, 10], "2026-03-04T10:00:00"),
        folder([1, 3, 5, 7, 9], "2026-03-05T10:00:00"),
        folder(list(range(len(files))), "2026-03-06T10:00:00"),
    ]


def untimed(monthly: dict) -> dict:
    return {
        **monthly,
        "detail": [{k: v for k, v in row.items() if k != "graded_at"} for row in monthly["detail"]],
    }


def _grader(args: tuple[str, int, float]) -> tuple[int, int]:
    url, number, start = args
    time.sleep(max(0.0, start - time.time()))
    summary = record_batch(url, office_batches()[number])
    return summary.recorded, summary.already_recorded


@pytest.mark.slow
def test_six_graders_at_once_record_as_a_serial_run(postgres_server, tmp_path: Path) -> None:
    from conftest import fresh_database, need_postgres

    server = need_postgres(postgres_server)
    serial = tmp_path / "serial.sqlite"
    for b in office_batches():
        record_batch(serial, b)
    expected_rows = rows(serial, "SELECT count(*), sum(superseded) FROM workbooks")
    assert expected_rows == [(11, 1)]
    expected = monthly_json(serial, tmp_path)
    # Any fixed order gives it: here the folder with only the corrected copy goes first, and
    # the reverse order.
    for n, order in enumerate(([2, 0, 1, 3, 4, 5], [5, 4, 3, 2, 1, 0])):
        other = tmp_path / f"serial{n}.sqlite"
        for number in order:
            record_batch(other, office_batches()[number])
        assert untimed(monthly_json(other, tmp_path)) == untimed(expected), order
        assert current(other) == current(serial), order
    context = multiprocessing.get_context("fork")
    for _round in range(3):
        with fresh_database(server) as url:
            start = time.time() + 1.0
            with context.Pool(6) as pool:
                results = pool.map(_grader, [(url, n, start) for n in range(6)])
            assert sum(recorded for recorded, _ in results) == 11
            assert rows(url, "SELECT count(*), sum(superseded) FROM workbooks") == [(11, 1)]
            assert rows(
                url,
                "SELECT w.file, n.file FROM workbooks w JOIN workbooks n ON n.id = w.superseded_by",
            ) == [("2026-02/A.xlsx", "2026-02/A-v1.xlsx")]
            assert rows(url, "SELECT count(*) FROM criteria") == [(10 * 4,)]
            assert current(url) == current(serial)
            assert tools.check(url).ok
            # The writers' lock makes it a serial run in the order the batches committed
            # (ids grow batch by batch); a file in several folders keeps the graded_at of the
            # batch that recorded it first. That serial run gives the same monthly.
            committed = [
                when
                for (when,) in rows(
                    url, "SELECT graded_at FROM workbooks GROUP BY graded_at ORDER BY min(id)"
                )
            ]
            batches = office_batches()
            order = sorted(
                batches,
                key=lambda b: (
                    committed.index(b.graded_at.isoformat(timespec="seconds"))
                    if b.graded_at.isoformat(timespec="seconds") in committed
                    else len(committed)
                ),
            )
            replay = tmp_path / f"replay{_round}.sqlite"
            for b in order:
                record_batch(replay, b)
            got = monthly_json(url, tmp_path)
            assert got == monthly_json(replay, tmp_path)
            # And, but for when each file was first graded, the serial run in folder order.
            assert untimed(got) == untimed(expected)
            assert current(url) == current(replay)


# --- errors, located and true ---------------------------------------------------------------


def test_an_unreachable_server_says_where_and_how_long(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"postgresql://audit@127.0.0.1:{port}/history?connect_timeout=2"
    with pytest.raises(HistoryError) as error:
        load_history(url)
    text = str(error.value)
    assert text.startswith(f"无法连接 PostgreSQL 服务器 127.0.0.1:{port}（等待 ")
    assert "秒后放弃" in text


def test_a_wrong_password_is_said_without_it(postgres_url: str, monkeypatch) -> None:
    with monkeypatch.context() as patch, pytest.raises(HistoryError) as error:
        patch.setenv("PGPASSWORD", "not-the-password-xyz")
        record_batch(postgres_url, three_months()[0])
    text = str(error.value)
    assert "拒绝了用户 audit 的密码" in text
    assert "not-the-password-xyz" not in text
    with_password = postgres_url.replace("audit@", "audit:sekret-123@")
    with monkeypatch.context() as patch, pytest.raises(HistoryError) as shown_url:
        patch.delenv("PGPASSWORD")
        load_history(with_password)
    assert "sekret-123" not in str(shown_url.value)


def test_a_missing_database_says_so(postgres_url: str) -> None:
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_history"
    with pytest.raises(HistoryError) as error:
        load_history(url)
    assert "上没有数据库 no_such_history：请管理员先创建它（createdb no_such_history）" in str(
        error.value
    )


def test_a_database_of_something_else_is_not_touched(postgres_url: str, tmp_path: Path) -> None:
    with open_write(postgres_url) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    for attempt in (
        lambda: record_batch(postgres_url, three_months()[0]),
        lambda: load_history(postgres_url),
    ):
        with pytest.raises(HistoryError, match="不是 audit-xls 的历史库"):
            attempt()
    assert rows(
        postgres_url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    ) == [("customers",)]
    result = CliRunner().invoke(cli, ["history", "check", "--history", postgres_url])
    assert result.exit_code == 1
    assert "不是 audit-xls 的历史库" in result.output


def test_grade_refuses_an_unreachable_history_before_grading(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path / "returns"
    folder.mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(folder),
            "--out",
            str(tmp_path / "s.xlsx"),
            "--history",
            f"postgresql://audit@127.0.0.1:{port}/h?connect_timeout=1",
        ],
    )
    assert result.exit_code == 1
    assert f"无法连接 PostgreSQL 服务器 127.0.0.1:{port}" in result.output
    assert not (tmp_path / "s.xlsx").exists()


# --- grade and monthly, end to end -----------------------------------------------------------


def test_grade_and_monthly_work_the_same_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    from returns import fill, issue, mini_standard

    standards = tmp_path / "standards"
    standards.mkdir()
    standard = mini_standard(standards)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for code, points in (("P001", 2), ("P002", 1)):
        data = fill(issue(standard, code), standard, {"1.1.01": ("不符合", points, "未着装")},
                    default=("符合", None))  # fmt: skip
        (first / f"{code}.xlsx").write_bytes(data)
    corrected = fill(issue(standard, "P001"), standard, {}, default=("符合", None))
    (second / "P001.xlsx").write_bytes(corrected)
    sqlite = tmp_path / "h.sqlite"
    runner = CliRunner()
    for history in (str(sqlite), postgres_url):
        for folder in (first, second, first):  # the first folder graded again: nothing new
            result = runner.invoke(
                cli,
                ["grade", str(folder), "--standards", str(standards), "--out",
                 str(tmp_path / "s.xlsx"), "--history", history],
            )  # fmt: skip
            assert result.exit_code == 0, result.output
        assert f"历史库 {history}：新记录 0 份（评分 0，退回 0），已记录过 2 份" in result.output
    assert untimed(monthly_json(postgres_url, tmp_path)) == untimed(monthly_json(sqlite, tmp_path))
    assert current(postgres_url) == current(sqlite)
    assert rows(postgres_url, "SELECT count(*), sum(superseded) FROM workbooks") == [(3, 1)]


def test_the_environment_may_name_a_postgres_history(monkeypatch) -> None:
    from audit_xls.history.store import default_history_path

    monkeypatch.setenv("AUDIT_XLS_HISTORY", "postgresql://hq@db.example:5432/audit")
    assert default_history_path() == "postgresql://hq@db.example:5432/audit"
    monkeypatch.setenv("AUDIT_XLS_HISTORY", "postgresql://hq:secret@db.example/audit")
    from audit_xls.history.backend import shown

    assert shown(default_history_path()) == "postgresql://hq:***@db.example/audit"


# --- the writers' lock has a time limit -----------------------------------------------------


def test_a_writer_waits_for_the_lock_up_to_its_limit_and_says_who_holds_it(
    postgres_url: str, monkeypatch
) -> None:
    import re

    import psycopg

    from audit_xls.history.backend import LOCK_TIMEOUT_ENV, WRITE_LOCK

    batches = three_months()
    record_batch(postgres_url, batches[0])
    before = rows(postgres_url, "SELECT count(*) FROM workbooks")
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "1.5")
    with psycopg.connect(postgres_url, application_name="other-grader") as holder:
        # another grader in the middle of its batch: the lock taken, not committed
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        time.sleep(1)
        started = time.monotonic()
        with pytest.raises(HistoryError) as error:
            record_batch(postgres_url, batches[1])
        waited = time.monotonic() - started
        pid = holder.info.backend_pid
        client = holder.execute("SELECT host(inet_client_addr())").fetchone()[0]
        holder.rollback()
    assert 1.5 <= waited < 10
    assert error.value.code == "history.pg.locked"
    host, port, database = re.search(r"@([^:/]+):(\d+)/(\w+)", postgres_url).groups()
    assert re.fullmatch(
        re.escape(f"PostgreSQL 历史库 {host}:{port}/{database} 的写入锁被另一个写入程序（"
                  + ", ".join(x for x in (f"pid {pid}", "other-grader", client) if x)
                  + "）占用，已持有 ") + r"(\d+)"
        + re.escape(" 秒；本程序等待了 ") + r"(\d+\.\d)"
        + re.escape(" 秒（上限 1.5 秒）仍未释放，本批没有写入任何内容：请等它结束后重新运行；"
                    "需要等得更久时设置环境变量 AUDIT_XLS_LOCK_TIMEOUT（秒）。"),
        str(error.value),
    ), str(error.value)  # fmt: skip
    held, said = re.search(r"已持有 (\d+) 秒；本程序等待了 (\d+\.\d) 秒", str(error.value)).groups()
    assert int(held) >= 2 and 1.5 <= float(said) <= waited
    assert rows(postgres_url, "SELECT count(*) FROM workbooks") == before  # nothing written
    # the lock released: the same batch records
    assert record_batch(postgres_url, batches[1]).recorded > 0


def test_the_lock_limit_comes_from_the_environment_and_is_checked(
    history_at: Path | str, tmp_path: Path, monkeypatch
) -> None:
    from audit_xls.history.backend import LOCK_TIMEOUT_ENV

    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "soon")
    with pytest.raises(HistoryError) as early:
        check_writable(history_at)  # grade says it before grading
    with pytest.raises(HistoryError) as error:
        record_batch(history_at, three_months()[0])
    assert str(early.value) == str(error.value)
    assert str(error.value) == (
        "环境变量 AUDIT_XLS_LOCK_TIMEOUT 的值「soon」不是 0 到 86400 之间的秒数：请改为等待写入锁的"
        "秒数（如 300），或删除它以使用默认值。"
    )
    if isinstance(history_at, Path):  # SQLite: the file's busy wait takes the same limit
        import sqlite3

        monkeypatch.setenv(LOCK_TIMEOUT_ENV, "0.5")
        record_batch(history_at, three_months()[0])
        other = sqlite3.connect(history_at, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            with pytest.raises(HistoryError) as error:
                record_batch(history_at, three_months()[1])
            assert error.value.code == "history.locked"
            assert 0.5 <= time.monotonic() - started < 5
        finally:
            other.execute("ROLLBACK")
            other.close()
