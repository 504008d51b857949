"""One `grade` run, end to end: the library function the CLI calls.

prepare (grading/prepare.py) -> photo spool -> read, check and score the returns
(grading/grade.py) -> the register check -> publish the photos -> summary workbook -> results
CSV -> history -> the account lines and the exit code. The CLI only parses options, calls
`run_grade`, prints what it returns and exits with its code; errors are raised as the
library's own exceptions (see `run_grade`) for the CLI to word.

The tail runs on two cores: each result's CSV text is made as it arrives; after the last,
an idle reader process (grading/pool.py ReaderPool.call) stages the history inside its
transaction (history/store.py recording) while this process writes the summary workbook and
the CSV; only when both are written does it commit, so a history that cannot record still
means the summary and CSV were written (exit code 3), and an output that cannot be written
leaves the history as it was. Should that process fail, this one records the history itself.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from audit_xls.gcpause import cycles_not_collected
from audit_xls.i18n import t

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from audit_xls.grading.pool import Call
    from audit_xls.history.store import RecordSummary
    from audit_xls.model.results import BatchResult, WorkbookResult
    from audit_xls.model.standard import Standard

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
    with cycles_not_collected():
        return _run_grade(
            returns, out, standards_dir=standards_dir, issued_file=issued_file,
            csv_path=csv_path, photos_dir=photos_dir, history=history, jobs=jobs, lang=lang,
            progress=progress, reading=reading,
        )  # fmt: skip


def _run_grade(
    returns: str,
    out: str,
    *,
    standards_dir: str | None,
    issued_file: str | None,
    csv_path: str | None,
    photos_dir: str | None,
    history: str | None,
    jobs: int | None,
    lang: str,
    progress: Progress | None,
    reading: AbstractContextManager | None,
) -> GradeOutcome:
    from audit_xls.grading.readers import start_readers

    start_readers(jobs)  # they boot while the reader is imported, the standards load ...
    from audit_xls.grading.grade import exit_code, grade_returns, register_mismatch
    from audit_xls.grading.prepare import prepare_grade
    from audit_xls.outputs.console import account_lines
    from audit_xls.outputs.photos import PhotoSpool

    setup = prepare_grade(
        returns, out, standards_dir=standards_dir, issued_file=issued_file,
        csv_path=csv_path, photos_dir=photos_dir, history=history,
    )  # fmt: skip
    with contextlib.closing(_Tail(out, csv_path, history, lang)) as tail:
        with PhotoSpool(setup.photos) as spool:
            with reading if reading is not None else contextlib.nullcontext():
                batch = grade_returns(
                    Path(returns), setup.standards, setup.issued, jobs=jobs, lang=lang,
                    progress=progress, standards_folder=str(setup.standards_folder),
                    photo_spool=spool.folder, arrived=tail.arrived,
                )  # fmt: skip
            wrong_register = register_mismatch(batch, str(issued_file), lang)
            if wrong_register:
                raise GradeUsageError(wrong_register)
            spool.publish(batch, Path(out).resolve().parent)
        recorded, history_error = tail.write(batch, jobs, setup.standards)
    outcome = GradeOutcome(batch)
    not_recorded = None
    if history_error is not None:  # the summary and CSV are written: say so, exit 3
        not_recorded = t("history.not_recorded", lang, error=history_error)
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


class _Abort(Exception):
    """The summary or CSV could not be written: the history process records nothing."""


@dataclass
class _Tail:
    """The summary, the CSV and the history of a graded batch, in that order of effect.

    While the readers read, each result's CSV text is made as it arrives (`arrived`); the
    history is staged by an idle reader process while this one writes the summary and CSV.
    """

    out: str
    csv_path: str | None
    history: str | None
    lang: str
    # by id() of each result as it arrived: what grading may change after (result_mark), and
    # for the history's process the result as the reader pickled it (~1.5 KB, not the ~10 KB
    # objects)
    marks: dict[int, tuple] = field(default_factory=dict)
    packed: dict[int, bytes] = field(default_factory=dict)
    csv_made: _CsvSpool | None = None

    def arrived(self, result: WorkbookResult, packed: bytes) -> None:
        from audit_xls.grading.grade import result_mark

        if not self.marks:
            # at the first result, what the summary is written with (xlsxwriter, ~30 ms of
            # CPU) is imported while the readers read, not after the last result
            import audit_xls.outputs.summary  # noqa: F401
        self.marks[id(result)] = result_mark(result)
        if self.history is not None:
            self.packed[id(result)] = packed  # the reader's bytes, kept as they came
        if self.csv_path:
            if self.csv_made is None:
                self.csv_made = _CsvSpool()
            self.csv_made.add(result)

    def write(
        self, batch: BatchResult, jobs: int | None, standards: Sequence[Standard]
    ) -> tuple[RecordSummary | None, str | None]:
        """Write all three; returns what the history recorded, or why it could not (the
        HistoryError's text). Raises ReportError or OSError when an output cannot be
        written (then nothing is recorded)."""
        from audit_xls.outputs.exports import write_csv
        from audit_xls.outputs.summary import write_summary

        call = None
        if jobs != 0 and self.history is not None:
            call = self._hand_over(batch, jobs, standards)
        try:
            write_summary(batch, self.out, lang=self.lang)
            if self.csv_path:
                write_csv(batch, self.csv_path, lang=self.lang, made=self._csv_made(batch))
        except BaseException:
            if call is not None and call.send(("abort",)):
                while (reply := call.receive()) is not None and reply[0] != "aborted":
                    pass
            raise
        if call is None:
            return self._record(batch)
        reply = call.receive()
        if reply is not None and reply[0] == "staged" and call.send(("go",)):
            reply = call.receive()
        if reply is None or reply[0] != "done":
            call.abandon()  # it died or failed: this process records
            return self._record(batch)
        return reply[1], reply[2]

    def _csv_made(self, batch: BatchResult) -> Mapping[int, str] | None:
        """The CSV text made as results arrived, of the workbooks grading left as they came."""
        from audit_xls.grading.grade import result_mark

        if self.csv_made is None:
            return None
        marks = self.marks
        self.csv_made.keep(
            {id(w) for w in batch.workbooks if marks.get(id(w), ()) == result_mark(w)}
        )
        return self.csv_made

    def close(self) -> None:
        if self.csv_made is not None:
            self.csv_made.close()

    def _hand_over(
        self, batch: BatchResult, jobs: int | None, standards: Sequence[Standard]
    ) -> Call | None:
        from audit_xls.grading.grade import pack_batch
        from audit_xls.grading.readers import tail_pool

        readers = tail_pool(jobs)
        if readers is None:
            return None
        payload = (
            pack_batch(batch, standards, self.marks, self.packed), tuple(standards),
            (batch.skipped, batch.missing, batch.issued_count, batch.graded_at, batch.issued),
            self.history, self.lang, (os.getcwd(), dict(os.environ)),
        )  # fmt: skip
        return readers.call(_record_history, payload)

    def _record(self, batch: BatchResult) -> tuple[RecordSummary | None, str | None]:
        from audit_xls.history.store import HistoryError, record_batch

        if self.history is None:
            return None, None
        try:
            return record_batch(self.history, batch), None
        except HistoryError as error:
            return None, error.text(self.lang)


class _CsvSpool(Mapping):
    """Each result's CSV text (exports.CsvLines), made as it arrives and kept in a temporary
    file (the CSV of 10,000 returns is ~60 MB of text: not held in memory); read back by
    write_csv in the batch's order, for the workbooks `keep` names."""

    def __init__(self) -> None:
        from audit_xls.outputs.exports import CsvLines

        self.lines = CsvLines()
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), or on GC)
        self.where: dict[int, tuple[int, int]] = {}  # id() of a result: (offset, size)
        self.end = 0

    def add(self, result: WorkbookResult) -> None:
        data = self.lines.utf8(result)
        self.file.write(data)
        self.where[id(result)] = (self.end, len(data))
        self.end += len(data)

    def keep(self, keys: set[int]) -> None:
        self.where = {key: at for key, at in self.where.items() if key in keys}

    def __getitem__(self, key: int) -> str:
        offset, size = self.where[key]
        self.file.seek(offset)
        return self.file.read(size).decode("utf-8")

    def __iter__(self) -> Iterator[int]:
        return iter(self.where)

    def __len__(self) -> int:
        return len(self.where)

    def close(self) -> None:
        self.file.close()


@contextlib.contextmanager
def _as_caller(cwd: str, environ: dict[str, str]) -> Iterator[None]:
    """The calling process's folder and environment (a relative history path, PGPASSWORD,
    AUDIT_XLS_LOCK_TIMEOUT ...) while the task runs; the worker's own back after."""
    own_cwd, own_environ = os.getcwd(), dict(os.environ)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.chdir(own_cwd)
        os.environ.clear()
        os.environ.update(own_environ)


def _record_history(conn: Connection, payload: tuple) -> None:
    """In a reader process (ReaderPool.call): the history of _Tail.write.

    Says ("staged",) once the batch is written inside the history's transaction (or could
    not be); on ("go",) commits and says ("done", RecordSummary or None, the history's
    error or None); on ("abort",) keeps nothing and says ("aborted",).
    """
    with cycles_not_collected():  # the batch unpacked again: as in the grading process
        _stage_history(conn, payload)


def _stage_history(conn: Connection, payload: tuple) -> None:
    from audit_xls.grading.grade import unpack_batch
    from audit_xls.history.store import HistoryError, recording
    from audit_xls.model.results import BatchResult

    packed, standards, rest, history, lang, caller = payload
    skipped, missing, issued_count, graded_at, issued = rest
    batch = BatchResult(
        unpack_batch(packed, standards), skipped, missing, issued_count, graded_at, issued
    )
    summary = history_error = None
    try:
        with ExitStack() as stack:
            stack.enter_context(_as_caller(*caller))
            try:
                summary = stack.enter_context(recording(history, batch))
            except HistoryError as error:  # the summary and CSV are still written: exit 3
                history_error = error.text(lang)
            conn.send(("staged",))
            if conn.recv() != ("go",):
                raise _Abort
    except _Abort:
        conn.send(("aborted",))
        return
    except HistoryError as error:  # the commit
        summary, history_error = None, error.text(lang)
    conn.send(("done", summary, history_error))
