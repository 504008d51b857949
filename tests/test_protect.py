"""Workbook structure protection (issue 13): locked in every issued workbook, and what grade
says when a supervisor's application still lets a sheet be deleted or renamed."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from returns import ISSUED_ON, PERIOD, fill, issue, mini_standard

from audit_xls.cli import cli
from audit_xls.grading.grade import grade_returns
from audit_xls.grading.register import IssuedEntry
from audit_xls.grading.sites import Site
from audit_xls.soffice import convert
from audit_xls.workbook.build import build_workbook
from audit_xls.workbook.protect import legacy_password_hash, lock_structure, lock_workbook_xml
from audit_xls.workbook.read import read_workbook

ALL_PASS = ("符合", None)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


@pytest.fixture(scope="module")
def issued(standard) -> bytes:
    return issue(standard)


def workbook_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode("utf-8")


def test_structure_is_locked_after_workbook_pr_before_book_views(issued: bytes) -> None:
    xml = workbook_xml(issued)
    assert re.search(
        r'<workbookPr [^>]*/><workbookProtection lockStructure="1"/><bookViews>', xml
    ), xml[:600]
    assert xml.count("<workbookProtection") == 1


def test_protect_password_locks_structure_and_sheets_with_excels_hash(standard) -> None:
    site = Site("P001", "滨江花园", "华东")
    data = build_workbook(standard, site, PERIOD, issued_on=ISSUED_ON, password="password")
    assert legacy_password_hash("password") == "83AF"  # the value Excel itself stores
    assert '<workbookProtection workbookPassword="83AF" lockStructure="1"/>' in workbook_xml(data)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml").decode()
    assert 'password="83AF"' in sheet


def test_locking_is_deterministic_and_keeps_every_other_entry(issued: bytes) -> None:
    again = lock_structure(issued)
    assert again == lock_structure(again) == issued  # idempotent, byte for byte
    source, locked = zipfile.ZipFile(io.BytesIO(issued)), zipfile.ZipFile(io.BytesIO(again))
    assert [i.filename for i in source.infolist()] == [i.filename for i in locked.infolist()]
    for info in source.infolist():
        assert locked.read(info.filename) == source.read(info), info.filename
        assert locked.getinfo(info.filename).date_time == info.date_time


def test_lock_replaces_an_existing_protection_element() -> None:
    xml = b'<workbook><workbookPr/><workbookProtection lockWindows="1"/><bookViews/></workbook>'
    assert lock_workbook_xml(xml) == (
        b'<workbook><workbookPr/><workbookProtection lockStructure="1"/><bookViews/></workbook>'
    )
    assert lock_workbook_xml(b"<workbook><bookViews/></workbook>") == (
        b'<workbook><workbookProtection lockStructure="1"/><bookViews/></workbook>'
    )


def test_build_command_takes_protect_password(tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("项目编码,项目名称,区域\nP001,滨江花园,华东\n", encoding="utf-8")
    yaml = Path(__file__).parent.parent / "standards" / "kefu-dudao.yaml"
    result = CliRunner().invoke(
        cli,
        ["build", "--standard", str(yaml), "--sites", str(sites), "--period", PERIOD,
         "--out", str(tmp_path / "out"), "--protect-password", "password"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = next((tmp_path / "out").glob("*.xlsx")).read_bytes()
    assert 'workbookPassword="83AF"' in workbook_xml(data)


# --- a sheet deleted or renamed anyway (LibreOffice ignores the lock, see docs) -------------

SHEETS = "基本信息、检查表、得分汇总、_lists、_manifest"


def _change(sheet: str, how: str):
    def change(book) -> None:
        if how == "renamed":
            book[sheet].title = sheet + "（改）"
        else:
            del book[sheet]

    return change


def _remaining(sheet: str, how: str) -> str:
    names = SHEETS.split("、")
    if how == "renamed":
        return "、".join(n + "（改）" if n == sheet else n for n in names)
    return "、".join(n for n in names if n != sheet)


def _grade_one(tmp_path: Path, standard, issued: bytes, data: bytes):
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "P001.xlsx").write_bytes(data)
    wid = read_workbook(issued).manifest["workbook_id"]
    register = [IssuedEntry(wid, "P001", "滨江花园", "华东", "", "", PERIOD, standard.id,
                            standard.version, standard.content_hash, "P001.xlsx")]  # fmt: skip
    return grade_returns(folder, [standard], register)


@pytest.mark.parametrize("how", ["renamed", "deleted"])
@pytest.mark.parametrize("sheet", ["基本信息", "检查表"])
def test_a_scored_sheet_deleted_or_renamed_is_sent_back_not_missing(
    tmp_path, standard, issued, sheet, how
) -> None:
    data = fill(issued, standard, {}, default=ALL_PASS, change=_change(sheet, how))
    batch = _grade_one(tmp_path, standard, issued, data)
    [workbook] = batch.workbooks
    assert workbook.status == "sent_back"
    assert batch.missing == []  # it came back: HQ sends it back, not chases it
    assert (workbook.site_code, str(workbook.period)) == ("P001", PERIOD)
    [diagnostic] = workbook.diagnostics
    assert (diagnostic.code, diagnostic.severity, diagnostic.sheet) == (
        "sheet.missing", "error", sheet
    )  # fmt: skip
    assert diagnostic.message == (
        f"缺少工作表「{sheet}」（现有工作表：{_remaining(sheet, how)}），工作表被删除或重命名，"
        "无法评分：请使用总部下发的原检查表重新填写，不要删除或重命名工作表。"
    )


@pytest.mark.parametrize("how", ["renamed", "deleted"])
@pytest.mark.parametrize("sheet", ["得分汇总", "_lists"])
def test_an_unscored_sheet_deleted_or_renamed_is_a_warning(
    tmp_path, standard, issued, sheet, how
) -> None:
    data = fill(issued, standard, {}, default=ALL_PASS, change=_change(sheet, how))
    batch = _grade_one(tmp_path, standard, issued, data)
    [workbook] = batch.workbooks
    assert workbook.status == "graded"
    assert batch.missing == []
    [diagnostic] = workbook.diagnostics
    assert (diagnostic.code, diagnostic.severity, diagnostic.sheet) == (
        "sheet.missing_unscored", "warning", sheet
    )  # fmt: skip
    assert diagnostic.message == (
        f"缺少工作表「{sheet}」（现有工作表：{_remaining(sheet, how)}），工作表被删除或重命名；"
        "该表不参与评分，已照常评分：下次请使用原检查表，不要删除或重命名工作表。"
    )


@pytest.mark.parametrize("how", ["renamed", "deleted"])
def test_the_manifest_deleted_or_renamed_is_sent_back_not_missing(
    tmp_path, standard, issued, how
) -> None:
    """Renamed, the manifest is found by its content; deleted, the file is known by its issued
    name: either way the site returned (sent back, not chased) and the message names the sheet."""
    data = fill(issued, standard, {}, default=ALL_PASS, change=_change("_manifest", how))
    batch = _grade_one(tmp_path, standard, issued, data)
    [workbook] = batch.workbooks
    assert workbook.status == "sent_back"
    assert batch.missing == []
    assert (workbook.site_code, workbook.site_name, str(workbook.period)) == (
        "P001",
        "滨江花园",
        PERIOD,
    )
    [diagnostic] = workbook.diagnostics
    assert (diagnostic.code, diagnostic.severity, diagnostic.sheet) == (
        "sheet.missing", "error", "_manifest"
    )  # fmt: skip
    assert diagnostic.message == (
        f"缺少工作表「_manifest」（现有工作表：{_remaining('_manifest', how)}），工作表被删除或重命名，"
        "无法评分：请使用总部下发的原检查表重新填写，不要删除或重命名工作表。"
    )


def test_a_workbook_without_manifest_under_another_name_stays_missing(
    tmp_path, standard, issued
) -> None:
    """No manifest and not the issued file name: nothing proves which site it is (a foreign
    workbook), so it is sent back as not issued by HQ and the site stays listed as not returned."""
    data = fill(issued, standard, {}, default=ALL_PASS, change=_change("_manifest", "deleted"))
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "检查表.xlsx").write_bytes(data)
    wid = read_workbook(issued).manifest["workbook_id"]
    register = [IssuedEntry(wid, "P001", "滨江花园", "华东", "", "", PERIOD, standard.id,
                            standard.version, standard.content_hash, "P001.xlsx")]  # fmt: skip
    batch = grade_returns(folder, [standard], register)
    [workbook] = batch.workbooks
    assert workbook.status == "sent_back"
    [diagnostic] = workbook.diagnostics
    assert diagnostic.code == "manifest.missing"
    assert diagnostic.message == (
        f"工作簿中没有 audit-xls 的隐藏清单（_manifest 工作表；现有工作表：{_remaining('_manifest', 'deleted')}），"
        "不是总部下发的检查表：请使用总部下发的检查表填写后发回。"
    )
    assert [m.site_code for m in batch.missing] == ["P001"]


@pytest.mark.soffice
def test_libreoffice_drops_the_structure_lock_on_save(tmp_path: Path, issued: bytes) -> None:
    """Checked fact (LibreOffice 7.4): it neither applies an xlsx's lockStructure nor writes it
    back, so a LibreOffice user can rename sheets; the messages above are the safety net."""
    source = tmp_path / "issued.xlsx"
    source.write_bytes(issued)
    [saved] = convert([source], "xlsx", tmp_path / "saved")
    xml = workbook_xml(saved.read_bytes())
    assert "lockStructure" not in xml, "LibreOffice now keeps the lock: update docs/outputs.md"
