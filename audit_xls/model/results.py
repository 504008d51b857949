"""What grading a folder of returns produces: one result per workbook, plus skipped and missing.

grade.py fills these; report.py renders them (summary, CSV, --json) and history.py records them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from audit_xls.grading.register import IssuedEntry
from audit_xls.model.diagnostics import ERROR, Diagnostic
from audit_xls.model.score import Answer, ScoreCard
from audit_xls.model.standard import Standard

GRADED, SENT_BACK = "graded", "sent_back"


@dataclass
class WorkbookResult:
    file: str  # path relative to the returns folder (or inside the zip), as HQ sees it
    file_hash: str  # sha256 of the returned file's bytes
    status: str = SENT_BACK  # GRADED or SENT_BACK
    workbook_id: str = ""
    site_code: str = ""
    site_name: str = ""
    region: str = ""
    period: str = ""  # YYYY-MM
    standard: Standard | None = None
    inspector: str = ""
    inspection_date: date | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    card: ScoreCard | None = None  # None when sent back
    diagnostics: list[Diagnostic] = field(default_factory=list)
    modified: datetime | None = None  # the file's mtime, to keep the newer of two returns
    duplicate_of: str = ""  # set on the older file when the same workbook id came back twice

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str
    junk: bool = False  # an office temp/system file (Thumbs.db, ~$x.xlsx): listed, no action


@dataclass(frozen=True)
class Missing:
    workbook_id: str
    site_code: str
    site_name: str
    region: str
    period: str
    standard_id: str = ""
    standard_version: str = ""


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
        return [w for w in self.workbooks if w.status == GRADED and not w.duplicate_of]

    @property
    def sent_back(self) -> list[WorkbookResult]:
        return [w for w in self.workbooks if w.status == SENT_BACK]
