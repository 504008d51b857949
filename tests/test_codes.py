"""The model's enums (model/codes.py) behave as the text they stand for, and the limits the
workbook, the grader and the words share are written once."""

from __future__ import annotations

import csv
import io
import json
import pickle
import re
import sqlite3
from pathlib import Path

import pytest

from audit_xls import i18n
from audit_xls.grading.register import REGISTER_COLUMNS
from audit_xls.model.codes import (
    EventKind,
    EventSource,
    ProblemStatus,
    RecheckVerdict,
    ReplyStatus,
    Result,
    Severity,
    Status,
)
from audit_xls.model.results import GRADED, SENT_BACK, SUPERSEDED
from audit_xls.model.score import FAIL, NA, PASS
from audit_xls.workbook.layout import COVER_FIELDS, COVER_INPUTS, MAX_PROBLEM_POINTS

MEMBERS = [
    *Result,
    *Status,
    *Severity,
    *ProblemStatus,
    *EventKind,
    *EventSource,
    *ReplyStatus,
    *RecheckVerdict,
]


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_a_member_is_its_text_everywhere(member) -> None:
    text = member.value
    assert type(text) is str
    assert member == text and hash(member) == hash(text) and {text: 1}[member] == 1
    assert (str(member), f"{member}", f"{member:>3}", "%s" % member) == (  # noqa: UP031
        text,
        text,
        f"{text:>3}",
        text,
    )
    assert json.dumps({member: [member]}) == json.dumps({text: [text]})
    out = io.StringIO()
    csv.writer(out).writerow([member])
    assert out.getvalue() == text + "\r\n"
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (member,))
        assert conn.execute("SELECT x FROM t WHERE x = ?", (text,)).fetchone() == (text,)
    conn.close()
    assert pickle.loads(pickle.dumps(member)) is member
    assert type(member)(text) is member


def test_the_old_constants_are_the_members() -> None:
    assert (PASS, FAIL, NA) == (Result.PASS, Result.FAIL, Result.NA)
    assert tuple(Status) == (GRADED, SENT_BACK, SUPERSEDED)
    assert all(isinstance(c, Status) for c in (GRADED, SENT_BACK, SUPERSEDED))


def test_register_columns_come_from_the_cover() -> None:
    assert REGISTER_COLUMNS == (
        "workbook_id",
        "site_code",
        "site_name",
        "region",
        "city_company",
        "project_type",
        "period",
        "standard_id",
        "standard_version",
        "standard_hash",
        "file",
    )
    assert set(REGISTER_COLUMNS) >= set(COVER_FIELDS) - set(COVER_INPUTS)


def test_the_words_name_the_problem_points_limit_of_the_layout() -> None:
    """Templates and messages write the 0-99 limit out; they must say layout's number."""
    said = re.compile(r"\b0-(\d+)\b")
    texts = [
        str(i18n.entry(key, lang))
        for lang in i18n.LANGS
        for key in i18n.keys(lang)
        if "point" in key or "answer" in key
    ]
    root = Path(__file__).resolve().parents[1] / "templates"
    texts += [p.read_text(encoding="utf-8") for p in root.glob("*.yaml")]
    limits = {int(m) for text in texts for m in said.findall(text)}
    assert limits == {MAX_PROBLEM_POINTS}
