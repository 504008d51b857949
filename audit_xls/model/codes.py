"""The closed sets of words the model stores: str-valued enums.

A member is the text it stands for everywhere it leaves the program: equal to it, hashed like
it, printed, formatted, pickled, written to SQLite/PostgreSQL, JSON and CSV as it, so the
history, `--json` and the CSV files hold the same bytes as when these were bare strings, and
a value read back (a plain str) compares equal to its member.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

C = TypeVar("C", bound="Code")


class Code(str, Enum):
    """Base of the model's enums (no members of its own)."""

    __hash__ = str.__hash__  # Enum hashes the member's name; a code must hash as its text

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def stored(cls: type[C], value: object) -> C:
        """`value` as read back from the history (a plain str from SQLite/PostgreSQL, or already
        a member) as its member: the one place a stored code becomes the model's enum. A text
        that is none of the codes raises ValueError naming it (`history check` reports such
        rows before they are read)."""
        return cls(value)


class Result(Code):
    """A criterion's answer (model/score.py)."""

    PASS = "pass"
    FAIL = "fail"
    NA = "na"


class Status(Code):
    """What became of a returned workbook (model/results.py). GRADED and SENT_BACK are a
    WorkbookResult's status; SUPERSEDED is its outcome when it is the older copy of a
    workbook returned twice and graded: listed with its score, never counted."""

    GRADED = "graded"
    SENT_BACK = "sent_back"
    SUPERSEDED = "superseded"


class Severity(Code):
    """A diagnostic's weight: an error sends the workbook back, a warning does not."""

    ERROR = "error"
    WARNING = "warning"


class ProblemStatus(Code):
    """A rectification problem's status (rectify/ledger.py; labels rectify.status.<code>)."""

    OPEN = "open"  # 待整改
    IN_PROGRESS = "in_progress"  # 整改中
    CLAIMED = "claimed"  # 已整改待复查
    CANNOT_FIX = "cannot_fix"  # 无法整改
    CLOSED = "closed"  # 已整改 (verified at 复查)
    WITHDRAWN = "withdrawn"  # a resubmission no longer fails it


class EventKind(Code):
    """What happened to a rectification problem (rectify/ledger.py's problem_events.kind)."""

    FOUND = "found"
    REVISED = "revised"
    WITHDRAWN = "withdrawn"
    NOTIFIED = "notified"
    REPLIED = "replied"
    VERIFIED = "verified"
    REOPENED = "reopened"


class EventSource(Code):
    """What recorded a rectification event (rectify/ledger.py's problem_events.source)."""

    INSPECTION = "inspection"  # grade: found, revised, withdrawn
    RECHECK = "recheck"  # grade: a 复查 verdict
    NOTICE = "notice"  # rectify notices
    REPLY = "reply"  # rectify collect
    MIGRATION = "migration"  # the upgrade to the ledger (schema 3)
    MERGE = "merge"  # history merge


class ReplyStatus(Code):
    """What became of a returned 整改通知单 (rectify/collect.py): its replies accepted, or the
    file sent back whole."""

    ACCEPTED = "accepted"
    SENT_BACK = "sent_back"


class RecheckVerdict(Code):
    """复查结果 of a problem re-checked at the next inspection (rectify/recheck.py)."""

    FIXED = "fixed"  # 已整改
    NOT_FIXED = "not_fixed"  # 未整改
