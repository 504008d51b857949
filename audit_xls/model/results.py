"""What grading a folder of returns produces: one result per workbook, plus skipped and missing.

grade.py fills these; report.py renders them (summary, CSV, --json) and history.py records them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from audit_xls.grading.register import IssuedEntry
from audit_xls.model.codes import Status
from audit_xls.model.diagnostics import ERROR, Diagnostic
from audit_xls.model.period import Period, parse_period, period_or_none
from audit_xls.model.score import Answer, ScoreCard
from audit_xls.model.standard import Standard

# What became of a returned workbook (model/codes.Status).
GRADED, SENT_BACK, SUPERSEDED = Status.GRADED, Status.SENT_BACK, Status.SUPERSEDED


@dataclass
class Photo:
    """A picture kept from a return, tied to a criterion (workbook/pictures.py finds them)."""

    criterion: str  # criterion code
    sha256: str  # of the picture's bytes, as sent
    ext: str  # png, jpg, gif, bmp, webp
    how: str  # floating | wps_cell | excel_cell | ods
    cell: str  # the checklist cell it is anchored to
    width: int  # as shown (EXIF orientation applied)
    height: int
    thumbnail: bytes | None = None  # a small JPEG for the summary
    data: bytes | None = None  # the bytes, until spooled or written to the photo folder
    path: str = ""  # once written: the file's path, relative to the summary's folder
    location: str = ""  # once written: the file's absolute path (what the history records)


@dataclass
class WorkbookResult:
    file: str  # path relative to the returns folder (or inside the zip), as HQ sees it
    file_hash: str  # sha256 of the returned file's bytes
    status: Status = SENT_BACK  # GRADED or SENT_BACK
    workbook_id: str = ""
    site_code: str = ""
    site_name: str = ""
    region: str = ""
    # The month the return names: a Period when its manifest's month is YYYY-MM (always so
    # for a graded result), None when missing, untrusted or malformed. `period_text` is that
    # month exactly as found (or as the register has it), what the summary, CSV, JSON, the
    # history and the messages show: a forged or malformed month is reported as written.
    # Text given as `period` (a library caller, a test, a result unpacked from a reader) is
    # read so: both are set from it (set_period).
    period: Period | None = None
    standard: Standard | None = None
    inspector: str = ""
    inspection_date: date | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    card: ScoreCard | None = None  # None when sent back
    diagnostics: list[Diagnostic] = field(default_factory=list)
    modified: datetime | None = None  # the file's mtime, to keep the newer of two returns
    duplicate_of: str = ""  # set on the older file when the same workbook id came back twice
    rechecks: list[Any] = field(default_factory=list)  # 复查 verdicts (rectify/recheck.py)
    photos: list[Photo] = field(default_factory=list)  # kept pictures, in checklist order
    period_text: str = ""  # the month as found (see `period`)

    def __post_init__(self) -> None:
        if isinstance(self.period, str):
            self.set_period(self.period)

    def set_period(self, month: Period | str) -> None:
        """The month this return names: a manifest's text (a Period when it is exactly
        YYYY-MM, the text kept as found either way) or the register's Period."""
        if isinstance(month, Period):
            self.period, self.period_text = month, str(month)
        else:
            self.period, self.period_text = period_or_none(month), month

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def superseded(self) -> bool:
        """The older copy of a workbook that came back twice, graded: listed, not counted."""
        return bool(self.duplicate_of) and self.status == GRADED

    @property
    def outcome(self) -> str:
        """GRADED, SENT_BACK or SUPERSEDED: what the outputs say became of this file."""
        return SUPERSEDED if self.superseded else self.status


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str
    junk: bool = False  # an office temp/system file (Thumbs.db, ~$x.xlsx): listed, no action
    code: str = ""  # skip.* (the catalogue key of `reason`), for exit-code and report policies


@dataclass(frozen=True)
class Missing:
    """An issued workbook nobody returned (from the register: its month is a Period)."""

    workbook_id: str
    site_code: str
    site_name: str
    region: str
    period: Period  # YYYY-MM text given here (a library caller, a test) is parsed
    standard_id: str = ""
    standard_version: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.period, str):
            object.__setattr__(self, "period", parse_period(self.period))


@dataclass
class BatchResult:
    workbooks: list[WorkbookResult]
    skipped: list[Skipped]
    missing: list[Missing]
    issued_count: int | None  # None when grading without an issued register
    graded_at: datetime
    issued: list[IssuedEntry] | None = None  # the register graded against, when there was one

    @property
    def graded(self) -> list[WorkbookResult]:
        """The results that count: graded, and not an older copy of a resubmitted workbook."""
        return [w for w in self.workbooks if w.outcome == GRADED]

    @property
    def superseded(self) -> list[WorkbookResult]:
        return [w for w in self.workbooks if w.superseded]

    @property
    def sent_back(self) -> list[WorkbookResult]:
        return [w for w in self.workbooks if w.status == SENT_BACK]
