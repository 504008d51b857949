"""The policy the CLI used to hold, now in the library: grade's checks before a run
(grading/prepare.py) and why an output could not be written (paths.cannot_write)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_xls.grading.prepare import GradeSetupError, prepare_grade
from audit_xls.paths import PathPolicyError, cannot_write
from audit_xls.standards.loader import StandardsFolderError


def test_cannot_write_says_why_in_either_language(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    error = cannot_write(blocker / "out.xlsx", FileNotFoundError(2, "No such file"), "x.xlsx")
    assert (
        error.text("en") == f"{blocker / 'out.xlsx'}: '{blocker}' is a file, not a folder: "
        "choose another --out path."
    )
    assert str(error) == error.text("zh") and "不是文件夹" in str(error)
    folder = cannot_write(tmp_path, IsADirectoryError(21, "Is a directory"), "整改回复.xlsx")
    assert folder.text("en").endswith(f"e.g. {tmp_path / '整改回复.xlsx'}.")
    denied = cannot_write(tmp_path / "o.xlsx", PermissionError(13, "Permission denied"))
    assert "no permission to write" in denied.text("en")
    other = cannot_write(tmp_path / "o.xlsx", OSError(28, "No space left on device"))
    assert other.text("en").endswith(
        "cannot write (No space left on device): check the path and the free disk space."
    )


def test_prepare_grade_refuses_before_reading_anything(tmp_path: Path) -> None:
    single = tmp_path / "one.xlsx"
    single.write_bytes(b"")
    with pytest.raises(GradeSetupError) as error:
        prepare_grade(single, tmp_path / "S.xlsx")
    assert error.value.option == "RETURNS" and "single file" in error.value.text("en")
    returns = tmp_path / "returns"
    returns.mkdir()
    with pytest.raises(GradeSetupError) as error:
        prepare_grade(returns, tmp_path / "S.csv")
    assert error.value.option == "--out"
    with pytest.raises(StandardsFolderError):
        prepare_grade(returns, tmp_path / "S.xlsx", standards_dir=tmp_path / "none")
    with pytest.raises(PathPolicyError):
        prepare_grade(returns, returns / "S.xlsx")
    empty = tmp_path / "standards"
    empty.mkdir()
    with pytest.raises(GradeSetupError) as error:
        prepare_grade(returns, tmp_path / "S.xlsx", standards_dir=empty)
    assert error.value.option is None and error.value.key == "cli.grade.no_standards"


def test_prepare_grade_finds_the_shipped_standards_and_the_photos_folder(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    returns = tmp_path / "returns"
    returns.mkdir()
    with pytest.raises(GradeSetupError) as error:  # the summary's folder does not exist
        prepare_grade(returns, tmp_path / "out" / "S.xlsx")
    assert error.value.key == "cli.grade.no_folder"
    setup = prepare_grade(returns, tmp_path / "S.xlsx", history=tmp_path / "h.sqlite")
    assert setup.standards and setup.issued is None
    assert setup.photos == tmp_path / "photos"


def test_recheck_rows_word_the_reply_in_the_workbooks_language() -> None:
    from audit_xls.model.period import Period
    from audit_xls.rectify.ledger import CLAIMED, ProblemState
    from audit_xls.rectify.recheck import items_for

    state = ProblemState(
        "w:1.1", "w", "1.1", "1", "text", "P1", "site", "east", Period(2026, 1), "T"
    )
    state.status, state.replied_on, state.done_date = CLAIMED, "2026-01-20", "2026-01-18"
    assert items_for([state], "en")[0].reply.endswith(" 2026-01-18")
    assert items_for([state], "en")[0].reply != items_for([state], "zh")[0].reply
    assert items_for([state])[0].reply == items_for([state], "zh")[0].reply


def _standards_and_returns(tmp_path: Path, codes: tuple[str, ...] = ("P001",)) -> tuple[Path, Path]:
    """A standards folder with the mini standard, and a returns folder with one return of it
    per site code, every criterion 符合."""
    from returns import fill, issue, mini_standard

    standards = tmp_path / "standards"
    standards.mkdir()
    standard = mini_standard(standards)
    returns = tmp_path / "returns"
    returns.mkdir()
    for code in codes:
        book = issue(standard, code, "滨江花园", "华东")
        (returns / f"{code}.xlsx").write_bytes(fill(book, standard, {}, default=("符合", None)))
    return standards, returns


def test_run_grade_is_the_whole_run_without_the_cli(tmp_path: Path) -> None:
    """grade's orchestration is a library call: outputs written, the account and the exit
    code returned for the CLI to print."""
    from audit_xls.grading.run import run_grade

    standards, returns = _standards_and_returns(tmp_path)
    out, csv = tmp_path / "s.xlsx", tmp_path / "r.csv"
    outcome = run_grade(
        str(returns), str(out), standards_dir=str(standards), csv_path=str(csv),
        history=str(tmp_path / "h.sqlite"), jobs=1, lang="en",
    )  # fmt: skip
    assert out.is_file() and csv.is_file()
    assert outcome.exit_code == 0 and outcome.errors == []
    assert len(outcome.batch.workbooks) == 1
    assert outcome.lines[1] == f"Summary: {out}; results CSV: {csv}"
    assert outcome.json_text().startswith("{")
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_grade(
        str(empty), str(tmp_path / "e.xlsx"), standards_dir=str(standards), lang="en"
    )
    assert nothing.exit_code == 1
    assert nothing.errors == [f"Nothing found in {empty}: is it the right folder?"]


def test_run_grade_pauses_the_cycle_collector_and_gives_it_back(
    tmp_path: Path, monkeypatch
) -> None:
    """The batch's results hold no cycles: grade pauses Python's cycle collector while it
    grades and writes (its full passes walk every result kept) and leaves it as it found it,
    also when the run fails."""
    import gc

    from audit_xls.grading import run
    from audit_xls.outputs import summary

    standards, returns = _standards_and_returns(tmp_path)
    seen = []
    real = summary.write_summary

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(summary, "write_summary", watched)

    def grade(name: str) -> run.GradeOutcome:
        return run.run_grade(
            str(returns), str(tmp_path / name), standards_dir=str(standards), jobs=1
        )

    assert gc.isenabled()
    assert grade("a.xlsx").exit_code == 0
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        grade("b.xlsx")
        assert not gc.isenabled()  # left as found: paused
    finally:
        gc.enable()
    monkeypatch.setattr(summary, "write_summary", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        grade("c.xlsx")
    assert gc.isenabled()


READER_ONLY = ("audit_xls.workbook.read", "audit_xls.grading.validate",
               "audit_xls.workbook.pictures", "python_calamine")  # fmt: skip


def test_grades_own_process_imports_neither_the_history_first_nor_the_reader(
    tmp_path: Path,
) -> None:
    """The CLI imports no history (grade starts its readers right after importing it, so they
    boot while the rest is imported), and grade's own process never imports what only the
    readers use: the reader, the checker, the pictures, calamine."""
    import subprocess
    import sys

    standards, returns = _standards_and_returns(tmp_path)
    script = f"""
import sys
if __name__ == "__main__":  # (a reader runs this file again, as __mp_main__)
    import audit_xls.cli
    print(sorted(m for m in sys.modules if m.startswith("audit_xls.history")))
    from audit_xls.grading.run import run_grade
    outcome = run_grade({str(returns)!r}, {str(tmp_path / "s.xlsx")!r},
                        standards_dir={str(standards)!r}, history={str(tmp_path / "h.sqlite")!r},
                        jobs=1)
    print(outcome.exit_code, sorted(m for m in {READER_ONLY!r} if m in sys.modules))
"""
    (tmp_path / "run.py").write_text(script, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "run.py")], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == ["['audit_xls.history']", "0 []"]


def test_one_mapping_of_the_librarys_errors(tmp_path: Path) -> None:
    import click
    from click.testing import CliRunner

    from audit_xls.cli import _errors
    from audit_xls.demo import DemoStartError
    from audit_xls.model.period import PeriodError

    def run(error: BaseException):
        @click.command()
        def command() -> None:
            with _errors("en"):
                raise error

        return CliRunner().invoke(command, [])

    usage = run(DemoStartError("cli.demo.past_9999", start="9999-11", months=3))
    assert (
        usage.exit_code == 2 and "Invalid value for --start: 3 months from 9999-11" in usage.output
    )
    refused = run(PathPolicyError("paths.same_output", option="--out", other="--csv", output="x"))
    assert refused.exit_code == 2 and "Usage:" in refused.output
    failed = run(PeriodError("period.invalid", text="2026-13"))
    assert (
        failed.exit_code == 1 and failed.output.startswith("Error: ") and "2026-13" in failed.output
    )
    lost = tmp_path / "no" / "r.xlsx"
    blocked = run(cannot_write(lost, FileNotFoundError(2, "No such file"), "r.xlsx"))
    assert blocked.exit_code == 1
    assert f"the folder '{lost.parent}' does not exist" in blocked.output
    bug = run(KeyError("a bug"))
    assert bug.exit_code == 1 and isinstance(bug.exception, KeyError)  # not hidden as a message


@pytest.mark.parametrize("jobs", [1, 0])
def test_run_grade_tail_keeps_its_order_of_effect(tmp_path: Path, jobs: int) -> None:
    """The CSV and history are written beside the summary (jobs 1: in the reader process),
    yet with the effect of one after the other: a summary that cannot be written leaves no
    CSV and records nothing; a CSV that cannot be written records nothing."""
    import sqlite3

    from audit_xls.grading.run import run_grade
    from audit_xls.outputs.shared import ReportError

    standards, returns = _standards_and_returns(tmp_path, ("P001", "P002"))
    history = tmp_path / "h.sqlite"

    def recorded() -> int:
        with sqlite3.connect(history) as conn:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'workbooks'").fetchall():
                return 0  # not even created
            return conn.execute("SELECT count(*) FROM workbooks").fetchone()[0]

    def grade(out: Path, csv: Path):
        return run_grade(
            str(returns), str(out), standards_dir=str(standards), csv_path=str(csv),
            history=str(history), jobs=jobs, lang="en",
        )  # fmt: skip

    blocked = tmp_path / "blocked.xlsx"
    blocked.mkdir()  # the summary cannot replace a folder
    csv = tmp_path / "r.csv"
    with pytest.raises(ReportError):
        grade(blocked, csv)
    assert not csv.exists() and recorded() == 0
    out = tmp_path / "s.xlsx"
    blocked_csv = tmp_path / "blocked.csv"
    blocked_csv.mkdir()
    with pytest.raises(ReportError) as error:
        grade(out, blocked_csv)
    assert str(blocked_csv) in str(error.value)
    assert out.is_file() and recorded() == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
    outcome = grade(out, csv)
    assert outcome.exit_code == 0 and csv.is_file() and recorded() == 2
    assert outcome.lines[-1].startswith(f"History {history}")


def test_run_grade_records_the_history_itself_when_that_reader_dies(
    tmp_path: Path, monkeypatch
) -> None:
    import sqlite3

    import pool_work

    from audit_xls.grading.pool import ReaderPool
    from audit_xls.grading.run import run_grade

    real_call = ReaderPool.call

    def dying(self, task, payload):  # the history's reader dies before it stages anything
        return real_call(self, pool_work.task, "exit")

    monkeypatch.setattr(ReaderPool, "call", dying)
    standards, returns = _standards_and_returns(tmp_path)
    history = tmp_path / "h.sqlite"
    outcome = run_grade(
        str(returns), str(tmp_path / "s.xlsx"), standards_dir=str(standards),
        csv_path=str(tmp_path / "r.csv"), history=str(history), jobs=1, lang="en",
    )  # fmt: skip
    assert outcome.exit_code == 0 and outcome.lines[-1].startswith(f"History {history}")
    with sqlite3.connect(history) as conn:
        assert conn.execute("SELECT count(*) FROM workbooks").fetchone() == (1,)
