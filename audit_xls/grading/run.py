"""One `grade` run, end to end: the library function the CLI calls.

prepare (grading/prepare.py) -> photo spool -> read, check and score the returns
(grading/grade.py) -> the register check -> publish the photos -> summary workbook -> results
CSV -> history -> the account lines and the exit code. The CLI only parses options, calls
`run_grade`, prints what it returns and exits with its code; errors are raised as the
library's own exceptions (see `run_grade`) for the CLI to word.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from audit_xls.i18n import t

if TYPE_CHECKING:
    from audit_xls.model.results import BatchResult

# grade wrote the summary and CSV, but the history could not record the run (said on stderr)
HISTORY_NOT_RECORDED = 3

Progress = Callable[[int, int], None]


class GradeUsageError(ValueError):
    """The run cannot go for a reason the user fixes on the command line (the issued register
    of another month); already worded in the run's language. A usage error (exit 2)."""

    usage = True


@dataclass
class GradeOutcome:
    """What a finished run has to say. `lines` is the account (stdout, or stderr under
    --json); `errors` go to stderr; `exit_code` is 0, 1 or 3."""

    batch: BatchResult
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exit_code: int = 0

    def json_text(self) -> str:
        from audit_xls.outputs.exports import batch_to_json, json_text

        return json_text(batch_to_json(self.batch))


def run_grade(
    returns: str,
    out: str,
    *,
    standards_dir: str | None = None,
    issued_file: str | None = None,
    csv_path: str | None = None,
    photos_dir: str | None = None,
    history: str | None = None,
    jobs: int | None = None,
    lang: str = "zh",
    progress: Progress | None = None,
    reading: AbstractContextManager | None = None,
) -> GradeOutcome:
    """Grade RETURNS and write the summary `out` (and `csv_path`), record the run in
    `history` (None: not recorded) and say how it went.

    `progress(done, total)` is called as files are read, inside the context `reading` (a
    progress bar). Raises, before anything is written: GradeSetupError, StandardsFolderError,
    PathPolicyError, StandardError, RegisterError, HistoryError or OSError from the checks
    of prepare_grade; GradeError or OSError while reading; GradeUsageError when the issued
    register is of another month; ReportError or OSError when an output cannot be written.
    A history that cannot record the run is not raised: the outputs are written, the
    outcome says so with exit code HISTORY_NOT_RECORDED.
    """
    from audit_xls.grading.grade import exit_code, grade_returns, register_mismatch, start_readers

    start_readers(jobs)  # they boot while the standards load and the returns are listed
    from audit_xls.grading.prepare import prepare_grade
    from audit_xls.history.store import HistoryError, record_batch
    from audit_xls.outputs.console import account_lines
    from audit_xls.outputs.exports import write_csv
    from audit_xls.outputs.photos import PhotoSpool
    from audit_xls.outputs.summary import write_summary

    setup = prepare_grade(
        returns, out, standards_dir=standards_dir, issued_file=issued_file,
        csv_path=csv_path, photos_dir=photos_dir, history=history,
    )  # fmt: skip
    with PhotoSpool(setup.photos) as spool:
        with reading if reading is not None else contextlib.nullcontext():
            batch = grade_returns(
                Path(returns), setup.standards, setup.issued, jobs=jobs, lang=lang,
                progress=progress, standards_folder=str(setup.standards_folder),
                photo_spool=spool.folder,
            )  # fmt: skip
        wrong_register = register_mismatch(batch, str(issued_file), lang)
        if wrong_register:
            raise GradeUsageError(wrong_register)
        spool.publish(batch, Path(out).resolve().parent)
    write_summary(batch, out, lang=lang)
    if csv_path:
        write_csv(batch, csv_path, lang=lang)
    outcome = GradeOutcome(batch)
    recorded = not_recorded = None
    if history is not None:
        try:
            recorded = record_batch(history, batch)
        except HistoryError as error:  # the summary and CSV are written: say so, exit 3
            not_recorded = t("history.not_recorded", lang, error=error.text(lang))
    account = account_lines(batch, lang)
    written = t("cli.grade.written", lang, out=out)
    if csv_path:
        written += t("cli.grade.written_csv", lang, csv=csv_path)
    outcome.lines = [account[0], written, *account[1:]]
    if recorded is not None:
        outcome.lines.append(recorded.message(lang))
    if not_recorded is not None:
        outcome.errors.append(f"Error: {not_recorded}")
        outcome.exit_code = HISTORY_NOT_RECORDED
    elif not batch.workbooks and not batch.skipped:
        outcome.errors.append(t("cli.grade.nothing_found", lang, returns=returns))
        outcome.exit_code = 1
    else:
        outcome.exit_code = exit_code(batch)
    return outcome
