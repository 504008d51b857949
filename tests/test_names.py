"""Site names in build and standard import (issue 11): they read back identically (`_xHHHH_`),
long ones are cut by bytes for file names and by characters for footers (the cells keep the
whole name), invisible characters and Excel error values are refused with their row and column;
a table's merged ranges are bounded by its real extent."""

from __future__ import annotations

import io
import re
import time
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import pytest
from returns import PERIOD, mini_standard

from audit_xls.grading.register import read_issued
from audit_xls.grading.sites import Site, SitesError, load_sites
from audit_xls.standards.loader import StandardError
from audit_xls.standards.table import export_table, import_table
from audit_xls.workbook.build import MAX_FILENAME_BYTES, build_all, build_workbook
from audit_xls.workbook.read import read_workbook

ISSUED_ON = date(2026, 11, 1)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


def part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return book.read(name).decode("utf-8")


# --- _xHHHH_ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["测试_x0031_项目", "A_x005F_B", "_X00e9_ 小写"])
def test_an_ooxml_escape_in_a_name_reads_back_identically(standard, name) -> None:
    data = build_workbook(standard, Site("P1", name, "华东"), PERIOD, issued_on=ISSUED_ON)
    if "_x" in name:  # xlsxwriter escapes the `_` of `_xHHHH_` (readers unescape `_X` not)
        assert "_x005F_x00" in part(data, "xl/sharedStrings.xml")
    manifest = read_workbook(data).manifest
    assert manifest.values["site_name"] == name
    assert manifest.checksum == manifest.expected_checksum


@pytest.mark.soffice
def test_an_ooxml_escape_survives_libreoffice(tmp_path, standard) -> None:
    from audit_xls.soffice import convert

    name = "测试_x0031_项目"
    source = tmp_path / "P1.xlsx"
    source.write_bytes(
        build_workbook(standard, Site("P1", name, "华东"), PERIOD, issued_on=ISSUED_ON)
    )
    for kind in ("xlsx", "ods", "xls"):
        [saved] = convert([source], kind, tmp_path / kind)
        manifest = read_workbook(saved.read_bytes()).manifest
        assert manifest.values["site_name"] == name, kind
        assert manifest.checksum == manifest.expected_checksum, kind


# --- long names --------------------------------------------------------------------------------


def test_a_long_name_is_cut_for_file_names_and_footers_kept_whole_in_cells(
    tmp_path, standard
) -> None:
    sites = [
        Site("P1", "滨" * 100, "华东"),  # 300 bytes: over 255 as a file name
        Site("P2", "A&B " * 60, "华东"),  # 240 characters with & (doubled in a footer)
        Site("P3", "𠀀" * 130, "华东"),  # outside the BMP: two UTF-16 units each
    ]
    entries = build_all(standard, sites, PERIOD, tmp_path, issued_on=ISSUED_ON)
    assert len(entries) == 3 and len(read_issued(tmp_path / "issued-2026-11.csv")) == 3
    for site, entry in zip(sites, entries, strict=True):
        assert len(entry.file.encode("utf-8")) <= MAX_FILENAME_BYTES
        data = (tmp_path / entry.file).read_bytes()
        manifest = read_workbook(data).manifest
        assert manifest.values["site_name"] == site.name  # the cells keep the whole name
        sheet = part(data, "xl/worksheets/sheet2.xml")
        [footer] = re.findall(r"<oddFooter>(.*?)</oddFooter>", sheet)
        text = footer.replace("&amp;", "&")
        assert len(text.encode("utf-16-le")) // 2 <= 255
        whole = f"&L{site.code} {site.name.replace('&', '&&')}&C第 &P 页，共 &N 页&R{PERIOD}"
        cut = len(whole.encode("utf-16-le")) // 2 > 255
        assert ("…" in text) == cut, site.code
        assert text == whole or text.startswith(f"&L{site.code} ")
        assert "&…" not in text.replace("&&", "")  # never half an escaped &
    assert entries[0].file == "2026-11_P1_" + "滨" * 61 + ".xlsx"


# --- the sites file: invisible characters, error values ----------------------------------------


def test_invisible_characters_and_error_values_are_refused_where_they_are(tmp_path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "项目编码,项目名称,区域\n"
        "P1,滨江\u202excod.exe,华东\n"  # right-to-left override: a disguised name
        "P2\u200b,江南名苑,华南\n"  # zero-width space: looks like P2
        "P3,北岸,#N/A\n"
        "P4,东城,华北\n",
        encoding="utf-8",
    )
    with pytest.raises(SitesError) as caught:
        load_sites(sites)
    assert str(caught.value).splitlines() == [
        f"{sites} 第2行「项目名称」列：项目名称含有看不见的控制字符 U+202E（第 3 个字符起）："
        "这类字符（控制符、双向文字控制符、零宽字符）会让文件名、页脚和汇总显示错乱或被伪装："
        "请删除后重试。",
        f"{sites} 第3行「项目编码」列：项目编码含有看不见的控制字符 U+200B（第 3 个字符起）："
        "这类字符（控制符、双向文字控制符、零宽字符）会让文件名、页脚和汇总显示错乱或被伪装："
        "请删除后重试。",
        f"{sites} 第4行「区域」列：区域是 Excel 错误值「#N/A」（公式出错），不是内容："
        "请填写实际内容（不要用公式）。",
    ]


def test_an_xlsx_sites_file_with_an_error_cell(tmp_path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["项目编码", "项目名称", "区域"])
    sheet.append(["P1", "滨江花园", "华东"])
    sheet.append(["P2", "=1/0", "华南"])  # saved with no cached value: read as the formula
    sheet["B3"] = "#DIV/0!"
    book.save(tmp_path / "sites.xlsx")
    with pytest.raises(SitesError) as caught:
        load_sites(tmp_path / "sites.xlsx")
    assert str(caught.value) == (
        f"{tmp_path / 'sites.xlsx'} 第3行「项目名称」列：项目名称是 Excel 错误值「#DIV/0!」"
        "（公式出错），不是内容：请填写实际内容（不要用公式）。"
    )


# --- standard import: merged ranges bounded by the real extent ---------------------------------


def with_merge(table: Path, ref: str, out: Path) -> Path:
    """A copy of the table whose first sheet has one more merged range."""
    with zipfile.ZipFile(table) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text = text.replace("</mergeCells>", f'<mergeCell ref="{ref}"/></mergeCells>')
                data = text.encode("utf-8")
            target.writestr(info, data)
    return out


def timed_import(path: Path) -> tuple[object, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome: object = import_table(path)
    except StandardError as error:
        outcome = error
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, elapsed, peak


def test_a_merged_range_to_the_last_cell_is_bounded(tmp_path, standard) -> None:
    table = tmp_path / "table.xlsx"
    export_table(standard, table)
    assert table.stat().st_size < 20_000
    plain = import_table(table)
    outside = with_merge(table, "Z1:XFD1048576", tmp_path / "outside.xlsx")
    imported, elapsed, peak = timed_import(outside)
    assert imported == plain  # wholly outside the table: dropped, nothing changes
    assert elapsed < 5 and peak < 50 * 2**20
    across = with_merge(table, "F1:XFD1048576", tmp_path / "across.xlsx")
    outcome, elapsed, peak = timed_import(across)  # cut to the table: a located answer, quickly
    assert elapsed < 5 and peak < 50 * 2**20
    assert isinstance(outcome, StandardError) or outcome is not None


def test_an_error_value_in_the_table_is_a_located_error(tmp_path, standard) -> None:
    from openpyxl import load_workbook

    table = tmp_path / "table.xlsx"
    export_table(standard, table)
    book = load_workbook(table)
    sheet = book.worksheets[0]
    header = next(c for row in sheet.iter_rows() for c in row if c.value == "检查标准")
    target = sheet.cell(header.row + 1, header.column)
    target.value = "#N/A"
    book.save(table)
    with pytest.raises(StandardError) as caught:
        import_table(table)
    assert f"{sheet.title}!{target.coordinate}" in str(caught.value)
    assert "Excel 错误值「#N/A」（公式出错）" in str(caught.value)
