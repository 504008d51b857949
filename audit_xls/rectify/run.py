"""`rectify notices` and `rectify collect` as library calls: the standards looked for, the
replies read and the report written, an output that cannot be written said so
(paths.cannot_write). The command line only parses its options and prints what these return.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from audit_xls.i18n import DEFAULT_LANG, t
from audit_xls.model.period import Period
from audit_xls.rectify.collect import Collected
from audit_xls.rectify.notices import NoticesWritten


def run_notices(
    history: str | Path,
    period: Period,
    out: str | Path,
    *,
    standards: str | Path | None = None,
    issued_on: date,
    sites: Sequence[str] | None = None,
    lang: str = DEFAULT_LANG,
) -> NoticesWritten:
    """The notices of `period` written into `out` and recorded (rectify/notices.py), with
    the standards of the folder `standards` (else where grading looks for them). Raises
    StandardsFolderError, StandardError, NoticeError, HistoryError, CannotWrite."""
    from audit_xls.paths import cannot_write
    from audit_xls.rectify.notices import write_notices
    from audit_xls.standards.loader import load_standards, standards_folder

    known = load_standards(standards_folder(standards))
    try:
        return write_notices(history, period, out, known, issued_on, sites or None, lang)
    except OSError as error:
        raise cannot_write(out, error) from None


def run_collect(
    replies: str | Path,
    history: str | Path,
    out: str | Path,
    *,
    issued: str | Path | None = None,
    today: date | None = None,
    photos: str | Path | None = None,
    lang: str = DEFAULT_LANG,
) -> Collected:
    """The replies under `replies` checked and recorded (rectify/collect.py), their
    after-photos kept in `photos` (default: photos/ beside the report), the replies workbook
    written to `out`. Raises RegisterError, GradeError, HistoryError, CannotWrite."""
    from audit_xls.grading.register import read_issued
    from audit_xls.outputs.photos import default_folder
    from audit_xls.paths import cannot_write
    from audit_xls.rectify.collect import collect_replies
    from audit_xls.rectify.report import write_report

    folder = Path(photos) if photos else default_folder(out)
    entries = read_issued(issued) if issued else None
    try:
        collected = collect_replies(
            Path(replies), history, issued=entries, today=today, lang=lang, photos=folder
        )
    except OSError as error:  # the photo folder cannot be written
        raise cannot_write(folder, error) from None
    try:
        write_report(out, collected, lang)
    except OSError as error:
        raise cannot_write(out, error, t("rectify.report.example_file", lang)) from None
    return collected
