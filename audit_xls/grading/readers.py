"""grade's reader processes, reachable without importing the reader itself.

grade starts its readers first (`start_readers`), before it imports what it reads and checks
with (grading/grade.py and all below it, ~0.1 s): they boot side by side with that import,
the standards loading and the listing of the returns. Their entry points here are
trampolines into grade.py; a reader imports what it reads and checks with as soon as it is
up (`warm`), while grade still lists the returns: its set-up then only builds the Checker.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit_xls.grading import pool

TYPE_CHECKING = False  # no typing before the readers start (see pool.py)
if TYPE_CHECKING:
    from typing import Any


def make_checker(config: Any) -> Any:
    from audit_xls.grading.grade import _make_checker

    return _make_checker(config)


def warm() -> None:
    """What a reader reads and checks with, imported as soon as it is up (grade.py imports
    them only where a file is read, so that grade's own process does without them)."""
    import audit_xls.grading.grade
    import audit_xls.grading.validate
    import audit_xls.workbook.pictures
    import audit_xls.workbook.read  # noqa: F401


def grade_file(checker: Any, source: Any) -> Any:
    from audit_xls.grading.grade import _grade_in_worker

    return _grade_in_worker(checker, source)


def start_readers(jobs: int | None = None, limits: pool.Limits | None = None) -> None:
    """Start grade_returns' reader processes now, without waiting: they boot while the
    caller loads the standards and lists the returns (jobs=0: none, see grade_returns)."""
    if jobs != 0:
        readers(jobs, limits).launch()


def start_early(args: Sequence[str]) -> None:
    """`audit-xls grade ...` (ARGS without the program): start its readers before the CLI is
    imported (click and the catalogues, ~0.1 s), so that they boot meanwhile. Only --jobs is
    looked at; the CLI reads every option again. Anything unusual (no `grade` first, --help or
    -h, a --jobs the CLI would refuse) starts nothing, and a reader that cannot start now is
    started again, its error worded, by grade itself."""
    if not args or args[0] != "grade" or "--help" in args or "-h" in args:
        return
    jobs: int | None = None
    for i, arg in enumerate(args):
        if arg == "--":  # the rest are arguments, not options
            break
        value = None
        if arg == "--jobs":
            value = args[i + 1] if i + 1 < len(args) else ""
        elif arg.startswith("--jobs="):
            value = arg.removeprefix("--jobs=")
        if value is not None:
            if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 64:
                return
            jobs = int(value)
    try:
        start_readers(jobs)
    except Exception:  # grade starts them again and says what went wrong
        pool.close_shared_pool()


def readers(jobs: int | None, limits: pool.Limits | None = None) -> pool.ReaderPool:
    """The process's pool of grade readers (`jobs` None: one per core)."""
    return pool.shared_pool(jobs or pool.default_jobs(), make_checker, grade_file, limits, warm)


def tail_pool(jobs: int | None) -> pool.ReaderPool | None:
    """The pool grade_returns just read with (for a task of the run's tail), if it is up."""
    current = pool.current_pool()
    if current is None or current.setup is not make_checker or jobs == 0:
        return None
    return current
