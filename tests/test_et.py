"""WPS .et returns (issue 13). What was found: WPS writes .et as an OLE compound file holding an
Excel 97-2003 (BIFF8) workbook stream, so the reader, which tells formats apart by content, reads
it as .xls (calamine reads BIFF8; LibreOffice 7.4 has no .et filter but opens such a file by
content too). WPS is not available here: the readable case is an .xls saved by LibreOffice and
named .et, the unreadable case is bytes no reader understands."""

from __future__ import annotations

import pytest
from returns import PERIOD, fill, issue, mini_standard

from audit_xls.grading.grade import exit_code, grade_returns
from audit_xls.grading.register import IssuedEntry
from audit_xls.soffice import convert
from audit_xls.workbook.read import read_workbook

ALL_PASS = ("符合", None)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


@pytest.fixture(scope="module")
def books(standard):
    return {code: issue(standard, code, name, "华东") for code, name in
            (("P001", "滨江花园"), ("P002", "江南名苑"))}  # fmt: skip


@pytest.fixture(scope="module")
def register(standard, books):
    return [
        IssuedEntry(
            read_workbook(books[code]).manifest["workbook_id"],
            code,
            name,
            "华东",
            "",
            "",
            PERIOD,
            standard.id,
            standard.version,
            standard.content_hash,
            f"{PERIOD}_{code}_{name}.xlsx",
        )
        for code, name in (("P001", "滨江花园"), ("P002", "江南名苑"))
    ]


def test_an_et_that_cannot_be_read_is_sent_back_for_its_site_not_missing(
    tmp_path, standard, books, register
):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / f"{PERIOD}_P001_滨江花园.xlsx").write_bytes(
        fill(books["P001"], standard, {}, default=ALL_PASS)
    )
    # an OLE header and then nothing a reader understands
    (folder / f"{PERIOD}_P002_江南名苑.et").write_bytes(
        bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600
    )
    batch = grade_returns(folder, [standard], register)
    assert batch.missing == []
    assert batch.skipped == []
    [sent_back] = batch.sent_back
    assert (sent_back.file, sent_back.site_code, sent_back.site_name, str(sent_back.period)) == (
        f"{PERIOD}_P002_江南名苑.et", "P002", "江南名苑", PERIOD
    )  # fmt: skip
    assert sent_back.workbook_id == register[1].workbook_id
    [diagnostic] = sent_back.diagnostics
    assert diagnostic.code == "file.et_unreadable"
    assert diagnostic.render("zh") == (
        "WPS 表格专用格式（.et）的文件无法按 Excel 格式读取，未评分：请在 WPS 中打开，"
        "「另存为」Excel 工作簿（.xlsx）后发回。"
    )
    assert exit_code(batch) == 1


def test_an_et_named_by_site_code_only_is_matched_by_the_code(tmp_path, standard, register):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "P002 江南名苑 11月.et").write_bytes(b"PK\3\4 not really a zip")
    batch = grade_returns(folder, [standard], register)
    assert [m.site_code for m in batch.missing] == ["P001"]
    assert [(w.site_code, w.diagnostics[0].code) for w in batch.sent_back] == [
        ("P002", "file.et_unreadable")
    ]


@pytest.mark.soffice
def test_an_et_holding_an_excel_97_workbook_is_read_and_graded(tmp_path, standard, books, register):
    filled = tmp_path / "P001.xlsx"
    filled.write_bytes(fill(books["P001"], standard, {"1.1.01": ("不符合", 2)}, default=ALL_PASS))
    [xls] = convert([filled], "xls:MS Excel 97", tmp_path / "xls")
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / f"{PERIOD}_P001_滨江花园.et").write_bytes(xls.read_bytes())
    batch = grade_returns(folder, [standard], register)
    [graded] = batch.graded
    assert graded.card is not None and str(graded.card.total) == "6.40"
    assert graded.diagnostics[0].code == "file.et_read"
    assert graded.diagnostics[0].render("zh") == (
        "WPS 表格专用格式（.et），已按 Excel 97-2003 格式读取并照常评分：下次请在 WPS 中"
        "「另存为」Excel 工作簿（.xlsx）后发回。"
    )
    assert [m.site_code for m in batch.missing] == ["P002"]
