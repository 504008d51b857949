"""The history when SQLite fails: every failure a located, true message (issue 11).

Read-only file or folder, locked by another process (and for how long it waited), damaged
(quick_check before writing; nothing written into it), not a history vs locked, several graders
opening a new history at once; and `grade` still writes its summary and CSV when the history
cannot record the run (exit 3).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from returns import fill, issue, mini_standard
from test_history import build_history, rows, three_months

from audit_xls.cli import HISTORY_NOT_RECORDED, cli
from audit_xls.history import backend, store, tools
from audit_xls.history.store import HistoryError, check_writable, load_history, record_batch

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute(sys.argv[2])
print("held", flush=True)
time.sleep(60)
"""


class Holder:
    """Another process holding a lock on the history (BEGIN EXCLUSIVE or IMMEDIATE)."""

    def __init__(self, path: Path, begin: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(path), begin],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def quick(monkeypatch):
    """Wait 0.3 s, not 10 s, for another process's lock."""
    monkeypatch.setattr(backend, "BUSY_TIMEOUT_S", 0.3)


def test_locked_by_another_process_is_locked_not_foreign(tmp_path, quick) -> None:
    path = build_history(tmp_path / "h.sqlite")
    before = digest(path)
    with Holder(path, "BEGIN EXCLUSIVE"):
        for attempt in (
            lambda: check_writable(path),
            lambda: record_batch(path, three_months()[0]),
        ):
            with pytest.raises(HistoryError) as error:
                attempt()
            assert error.value.code == "history.locked"
            waited = float(error.value.params["waited"])
            assert 0.25 <= waited < 5
            assert str(error.value) == (
                f"历史库 {path} 正被另一个程序使用（等待了 {waited:.1f} 秒仍未释放）："
                "请等它结束（或关闭打开该文件的程序）后重新运行。"
            )
        with pytest.raises(HistoryError) as error:
            load_history(path)
        assert error.value.code == "history.locked"
        assert error.value.text("en").startswith(f"The history {path} is locked by another")
    assert digest(path) == before


def test_a_writer_waits_for_another_writer_then_says_how_long(tmp_path, quick) -> None:
    path = build_history(tmp_path / "h.sqlite")
    with Holder(path, "BEGIN IMMEDIATE"):
        check_writable(path)  # a reader is not blocked by a writer's reserved lock
        with pytest.raises(HistoryError) as error:
            record_batch(path, three_months()[0])
    assert error.value.code == "history.locked"
    assert float(error.value.params["waited"]) >= 0.25


def damaged_copy(path: Path, page: int) -> Path:
    """The history with 64 bytes of one b-tree page overwritten (a bad sector, a torn copy)."""
    data = bytearray(path.read_bytes())
    offset = (page - 1) * 4096 + 8
    data[offset : offset + 64] = b"\xff" * 64
    damaged = path.with_name(f"damaged-{page}.sqlite")
    damaged.write_bytes(bytes(data))
    return damaged


@pytest.mark.parametrize("page", [2, 5, 9, 14])
def test_a_damaged_history_is_refused_before_writing(tmp_path, page) -> None:
    damaged = damaged_copy(build_history(tmp_path / "h.sqlite"), page)
    before = digest(damaged)
    for attempt in (
        lambda: check_writable(damaged),
        lambda: record_batch(damaged, three_months()[0]),
    ):
        with pytest.raises(HistoryError) as error:
            attempt()
        assert error.value.code == "history.damaged"
        message = str(error.value)
        assert message.startswith(f"历史库 {damaged} 已损坏（完整性检查：")
        assert message.endswith(
            f'未写入任何内容：请用备份替换它；没有备份时可用 SQLite 命令行恢复：sqlite3 "{damaged}" '
            '".recover" | sqlite3 恢复.sqlite，再用 --history 指定恢复后的文件。'
        )
        assert "\n" not in message
    assert digest(damaged) == before


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 shell is not installed")
def test_the_restore_the_message_gives_works(tmp_path) -> None:
    damaged = damaged_copy(build_history(tmp_path / "h.sqlite"), 9)
    recovered = tmp_path / "恢复.sqlite"
    # .recover exits 1 after reporting what it could not read; its SQL is what counts
    dump = subprocess.run(["sqlite3", str(damaged), ".recover"], capture_output=True)
    assert dump.stdout.rstrip().endswith(b"PRAGMA writable_schema = off;") or dump.stdout
    subprocess.run(["sqlite3", str(recovered)], input=dump.stdout, check=True)
    check_writable(recovered)
    record_batch(recovered, three_months()[0])  # writable again, the schema version kept
    assert len(load_history(recovered).workbooks) >= 1
    assert rows(recovered, "PRAGMA user_version") == [(store.SCHEMA_VERSION,)]


def test_not_a_database_is_not_a_history(tmp_path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"SQLite format 2\x00" + b"x" * 5000)
    with pytest.raises(HistoryError) as error:
        check_writable(path)
    assert str(error.value) == (
        f"历史库 {path} 不是 audit-xls 的历史库（file is not a database）："
        "请用 --history 指定 grade 记录结果的那个文件。"
    )


def test_a_folder_is_not_a_history(tmp_path) -> None:
    with pytest.raises(HistoryError) as error:
        check_writable(tmp_path)
    assert str(error.value) == (
        f"历史库 {tmp_path} 是一个文件夹，不是文件：请用 --history 指定历史库文件（例如 "
        f"{tmp_path}/audit-xls-history.sqlite）。"
    )


def test_several_graders_opening_a_new_history_at_once(tmp_path) -> None:
    """Each first use migrates under BEGIN IMMEDIATE and reads the version again inside it:
    no 'table workbooks already exists'."""
    batches = three_months()
    reference = tmp_path / "one-by-one.sqlite"
    for b in batches[:3]:
        record_batch(reference, b)
    expected = rows(reference, "SELECT count(*) FROM workbooks")
    for round_ in range(4):
        path = tmp_path / f"new-{round_}.sqlite"
        start = threading.Barrier(6)
        errors: list[BaseException] = []

        def grader(index: int, path=path, start=start, errors=errors) -> None:
            start.wait()
            try:
                record_batch(path, batches[index % 3])
            except BaseException as exc:  # collected, asserted below
                errors.append(exc)

        threads = [threading.Thread(target=grader, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert rows(path, "PRAGMA user_version") == [(store.SCHEMA_VERSION,)]
        assert rows(path, "SELECT count(*) FROM workbooks") == expected


CREATE_SLOWLY = """
import sys, time
from audit_xls.history import store
real = store.migration_script
def slow(number, dialect):
    if number == 1:
        print("migrating", flush=True)
        time.sleep(60)
    return real(number, dialect)
store.migration_script = slow
with store._connect(sys.argv[1]):
    pass
"""


def test_a_new_history_killed_while_made_leaves_no_history_file(tmp_path) -> None:
    """Made beside its path and put there whole: before, a grade killed in this instant left
    an empty database that `history check` and `monthly` called no history."""
    path = tmp_path / "h.sqlite"
    maker = subprocess.Popen([sys.executable, "-c", CREATE_SLOWLY, str(path)],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert maker.stdout is not None
    assert maker.stdout.readline().strip() == "migrating"
    maker.kill()
    maker.wait()
    assert not path.exists()
    assert {p.name.startswith(".h.sqlite.") for p in tmp_path.iterdir()} == {True}  # + journal
    record_batch(path, three_months()[0])
    assert tools.check(path).problems == []
    assert rows(path, "PRAGMA user_version") == [(store.SCHEMA_VERSION,)]


# --- read-only files and folders: chmod for a user, the immutable flag for root -------------


def make_read_only(path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("permissions: the Windows read-only attribute is not set by this test")
    if os.geteuid() == 0:  # root writes through permissions; the immutable flag stops it
        if shutil.which("chattr") is None:
            pytest.skip("root ignores permissions and chattr is not installed")
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode:
            pytest.skip(f"root ignores permissions and chattr +i failed: {done.stderr!r}")
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_read_only_history_file(tmp_path) -> None:
    path = build_history(tmp_path / "h.sqlite")
    before = digest(path)
    make_read_only(path)
    try:
        for attempt in (
            lambda: check_writable(path),
            lambda: record_batch(path, three_months()[0]),
        ):
            with pytest.raises(HistoryError) as error:
                attempt()
            assert str(error.value) == (
                f"历史库 {path} 是只读文件，无法记录：请取消该文件的只读属性（或检查写权限），"
                "或用 --history 指定可写的文件。"
            )
        assert len(load_history(path).workbooks) == 11  # reading it is fine
    finally:
        make_writable(path)
    assert digest(path) == before


def test_a_read_only_history_folder(tmp_path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = build_history(folder / "h.sqlite")
    make_read_only(folder)
    try:
        for target in (path, folder / "new.sqlite", folder / "sub" / "new.sqlite"):
            with pytest.raises(HistoryError) as error:
                record_batch(target, three_months()[0])
            assert str(error.value) == (
                f"历史库 {target} 所在的文件夹 {folder} 不可写（SQLite 要在其中建立日志文件），"
                "无法记录：请检查该文件夹的写权限，或用 --history 指定可写文件夹中的文件。"
            )
    finally:
        make_writable(folder)


# --- grade: the summary and CSV are written when the history cannot be ----------------------


def test_grade_writes_summary_and_csv_when_the_history_cannot_record(tmp_path, quick) -> None:
    standards = tmp_path / "standards"
    standards.mkdir()
    standard = mini_standard(standards)
    returns = tmp_path / "returns"
    returns.mkdir()
    book = issue(standard, "P001", "滨江花园", "华东")
    (returns / "P001.xlsx").write_bytes(fill(book, standard, {}, default=("符合", None)))
    history = build_history(tmp_path / "h.sqlite")
    before = digest(history)
    out, csv = tmp_path / "s.xlsx", tmp_path / "r.csv"
    args = ["grade", str(returns), "--standards", str(standards), "--out", str(out),
            "--csv", str(csv), "--history", str(history)]  # fmt: skip
    with Holder(history, "BEGIN IMMEDIATE"):  # another grader is writing: readers pass
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == HISTORY_NOT_RECORDED == 3
    assert out.is_file() and csv.is_file()
    assert result.stdout.splitlines()[0].startswith("共读取 1 个工作簿：评分 1 个")
    waited = result.stderr.split("等待了 ")[1].split(" 秒")[0]
    assert result.stderr.splitlines()[-1] == (
        f"Error: 本次结果未记录到历史库：历史库 {history} 正被另一个程序使用（等待了 {waited} 秒"
        "仍未释放）：请等它结束（或关闭打开该文件的程序）后重新运行。 汇总和明细已照常写出；"
        "处理后用同样的参数再运行一次 grade 即可补记（同一文件不会重复记录）。"
    )
    assert digest(history) == before
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "新记录 1 份" in again.stdout

    damaged = damaged_copy(history, 9)
    out.unlink()
    refused = CliRunner().invoke(cli, [*args[:-1], str(damaged)])
    assert refused.exit_code == 1 and not out.exists()  # found before grading: nothing written
    assert refused.stderr.startswith(f"Error: 历史库 {damaged} 已损坏（完整性检查：")
