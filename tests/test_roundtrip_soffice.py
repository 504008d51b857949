"""Real application round trips: returns saved by LibreOffice grade exactly like the originals.

Filled workbooks of the shipped standard (graded, graded with a warning, sent back) are saved by
LibreOffice as .xlsx, .ods and .xls, one soffice call per format, and each copy must come out
with the same status, scores, sections and diagnostics (codes, cells, messages). LibreOffice
turns the very hidden manifest into a hidden one: still accepted without a warning. The printed
checklist keeps every column on the page width and repeats its header row on every page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from returns import fill

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.register import read_issued
from audit_xls.grading.sites import Site
from audit_xls.model.results import BatchResult
from audit_xls.soffice import convert
from audit_xls.workbook.build import build_all
from audit_xls.workbook.layout import Col, Layout, cell
from audit_xls.workbook.read import RawWorkbook, read_workbook
from audit_xls.workbook.template import load_template

PERIOD = "2026-11"
PASS, FAIL, NA = ("符合", None), ("不符合", 2), ("不适用", None)
FORMATS = {"xlsx": "xlsx", "ods": "ods", "xls": "xls:MS Excel 97"}

pytestmark = pytest.mark.soffice


def fillings(standard, plan: Layout) -> dict[str, dict]:
    """Site code -> fill() options: the answers a supervisor typed, good and bad."""
    delivery = {c.code: NA for c in standard.sections[1].criteria}
    deduction = cell(plan.criterion_row["1.1.01"], Col.DEDUCTION)
    edited = f'=IF(G{plan.criterion_row["1.1.01"] + 1}="不符合",0,0)'
    return {
        "R01": {"answers": {}},
        "R02": {"answers": {"1.1.01": ("不符合", 3, "三人未戴工牌"), "3.1.01": FAIL, **delivery}},
        "R03": {"answers": {"1.1.04": ("不符合", None, "制服有污渍"), "2.1.02": ("不符合", 1)}},
        "R04": {"answers": {"1.1.05": ("", None), "2.2.01": ("", None)}},  # unanswered
        "R05": {"answers": {"1.1.02": ("不符合", "两个")}},  # refused, quoting what was typed
        "R06": {"answers": {"1.1.03": ("符合", 2)}},  # contradictory
        "R07": {"answers": {}, "inspector": ""},  # cover incomplete
        # the deduction formula edited: caught once an application has recalculated it
        "R08": {"answers": {"1.1.01": FAIL}, "cells": {(plan.checklist_sheet, deduction): edited}},
    }


@pytest.fixture(scope="module")
def issued(tmp_path_factory, shipped_standard):
    base = tmp_path_factory.mktemp("roundtrip")
    plan = Layout(shipped_standard, load_template("zh"))
    fills = fillings(shipped_standard, plan)
    sites = [Site(code, f"往返项目{code}", "华南") for code in fills]
    build_all(shipped_standard, sites, PERIOD, base / "issued", issued_on=date(2026, 11, 1))
    register = read_issued(base / "issued" / f"issued-{PERIOD}.csv")
    originals = base / "originals"
    originals.mkdir()
    for entry in register:
        options = dict(fills[entry.site_code])
        answers = options.pop("answers")
        data = (base / "issued" / entry.file).read_bytes()
        filled = fill(data, shipped_standard, answers, default=PASS, **options)
        (originals / f"{entry.site_code}.xlsx").write_bytes(filled)
    return base, register, originals


@pytest.fixture(scope="module")
def saved(issued) -> dict[str, Path]:
    """Every original saved by LibreOffice in each format: one soffice call per format."""
    base, _, originals = issued
    files = sorted(originals.glob("*.xlsx"))
    folders = {}
    for extension, to in FORMATS.items():
        folder = base / f"saved-{extension}"
        convert(files, to, folder)
        folders[extension] = folder
    return folders


def summary(batch: BatchResult) -> dict[str, tuple]:
    """Site -> everything HQ sees of its grading, minus the file name."""
    out = {}
    for w in batch.workbooks:
        card = w.card
        out[w.site_code] = (
            w.status,
            (str(card.total), str(card.max_score), str(card.percent), card.grade) if card else None,
            [(s.code, str(s.deducted), str(s.score), s.applicable) for s in card.sections]
            if card
            else None,
            [(d.severity, d.code, d.sheet, d.cell, d.message) for d in w.diagnostics],
        )
    return out


def test_originals_grade_as_expected(shipped_standard, issued):
    _, register, originals = issued
    graded = summary(grade_returns(originals, [shipped_standard], register))
    assert {site: (s[0], s[1][0] if s[1] else None) for site, s in graded.items()} == {
        "R01": ("graded", "34.00"),
        "R02": ("graded", "22.10"),  # 3 x 0.3 + 2 x 0.5 off 24: 房屋交付 not applicable
        "R03": ("graded", "33.20"),
        "R04": ("sent_back", None),
        "R05": ("sent_back", None),
        "R06": ("sent_back", None),
        "R07": ("sent_back", None),
        "R08": ("graded", "33.40"),  # openpyxl saved no value: the scorer alone decides
    }
    assert [d[1] for d in graded["R03"][3]] == ["answer.fail_without_points"]
    assert [(d[1], d[3]) for d in graded["R04"][3]] == [("answer.unanswered", "G8")]


@pytest.mark.parametrize("extension", list(FORMATS))
def test_saved_by_libreoffice_grades_exactly_like_the_original(
    shipped_standard, issued, saved, extension
):
    _, register, originals = issued
    original = summary(grade_returns(originals, [shipped_standard], register))
    copy = summary(grade_returns(saved[extension], [shipped_standard], register))
    edited = copy.pop("R08")
    original.pop("R08")
    assert copy == original
    # recalculated by LibreOffice, the edited formula shows 0 where the standard deducts 0.6,
    # and so does its section's total (I3)
    assert edited[0] == "sent_back"
    assert [(d[1], d[2], d[3]) for d in edited[3]] == [
        ("locked.formula_edited", "检查表", "I3"), ("locked.formula_edited", "检查表", "I4"),
    ]  # fmt: skip
    assert edited[3][1][4] == (
        "扣分为 0，按标准应为 0.6（扣分公式被修改）：请使用总部下发的原检查表，不要修改扣分列。"
    )
    raw = read_workbook((saved[extension] / f"R01.{extension}").read_bytes())
    assert isinstance(raw, RawWorkbook)
    assert raw.kind == extension
    assert raw.manifest_visibility == "hidden"  # LibreOffice has no very hidden: accepted


def test_printed_checklist_fits_the_width_and_repeats_its_header(issued, shipped_standard):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    base, register, _ = issued
    workbook = base / "issued" / register[0].file
    pdf = convert([workbook], "pdf", base / "pdf")[0]
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    labels = load_template("zh").columns
    header = re.compile(r"\s+".join(map(re.escape, labels)))
    codes = re.compile(r"^\s*(\d+\.\d+\.\d{2})\s", re.MULTILINE)
    checklist_pages = [p for p in pages if codes.search(p)]
    assert len(checklist_pages) >= 2  # 42 criteria with long texts: more than one A4 page
    printed = []
    for page in checklist_pages:
        # every checklist column on one line of every page: the width fits, the header repeats
        assert header.search(page), page[:400]
        printed += codes.findall(page)
    assert printed == [c.code for c in shipped_standard.criteria]  # each row once, in order
