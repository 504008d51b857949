"""read.py: classify returned bytes safely, refuse bombs, extract raw inputs with locations."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from returns import fill, issue, mini_standard

from audit_xls import read
from audit_xls.read import RawWorkbook, ReadFailure, as_date, read_workbook


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


@pytest.fixture(scope="module")
def issued(standard) -> bytes:
    return issue(standard)


def rezip(data: bytes, change) -> bytes:
    """Copy a zip, letting `change(name, bytes)` replace parts (None drops one)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = change(info.filename, src.read(info))
            if part is not None:
                dst.writestr(info.filename, part, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def failure_code(data: bytes) -> str:
    result = read_workbook(data)
    assert isinstance(result, ReadFailure), result
    return result.code


def test_issued_workbook_reads_with_manifest_cover_and_grid(issued):
    raw = read_workbook(issued)
    assert isinstance(raw, RawWorkbook)
    assert raw.kind == "xlsx"
    assert raw.manifest_visibility == "very_hidden"
    assert raw.manifest["site_code"] == "P001"
    assert raw.manifest["period"] == "2026-11"
    assert raw.template.name == "zh"
    assert raw.cover["site_name"] == "滨江花园"
    assert raw.cover["inspector"] == ""
    assert raw.grid[1][:3] == ["编号", "一级指标", "二级指标"]
    assert raw.value(3, 0) == "1.1.01"  # A4
    assert raw.value(500, 50) == ""
    assert raw.input_formulas == set()
    assert raw.sha256 == read.sha256(issued)


def test_filled_values_dates_and_input_formulas(standard, issued):
    data = fill(
        issued,
        standard,
        {"1.1.01": ("不符合", 2, "袖口污渍"), "1.1.02": ('="符合"', None)},
        cells={("检查表", "H9"): "=1+1"},
    )
    raw = read_workbook(data)
    assert isinstance(raw, RawWorkbook)
    assert raw.value(3, 6) == "不符合"
    assert raw.value(3, 7) == 2
    assert raw.value(3, 9) == "袖口污渍"
    assert as_date(raw.cover["inspection_date"]).isoformat() == "2026-11-12"
    assert raw.input_formulas == {(4, 6), (8, 7)}  # G5 and H9


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-11-03", "2026-11-03"), ("2026/11/3", "2026-11-03"), ("２０２６年11月3日", "2026-11-03"),
     (46329.0, "2026-11-03"), ("11月3日", None), ("2026-02-30", None), ("", None)],
)  # fmt: skip
def test_as_date(value, expected):
    found = as_date(value)
    assert (found.isoformat() if found else None) == expected


def test_empty_text_and_truncated_files(issued):
    assert failure_code(b"") == "file.empty"
    text = read_workbook(b"site,score\nP001,90\n")
    assert isinstance(text, ReadFailure)
    assert (text.code, text.params) == ("file.not_spreadsheet", {"head": "text"})
    assert failure_code(issued[: len(issued) // 2]) == "file.corrupt"


def test_password_protected_workbook_is_encrypted(issued):
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(issued)).encrypt("secret", out)
    assert failure_code(out.getvalue()) == "file.encrypted"


def test_zip_bomb_refused_by_ratio_before_parsing(issued):
    bomb = rezip(
        issued,
        lambda name, part: (
            b"<x>" + b"0" * 3_000_000 + b"</x>" if name == "xl/worksheets/sheet2.xml" else part
        ),
    )
    result = read_workbook(bomb)
    assert isinstance(result, ReadFailure)
    assert result.code == "file.compression_ratio"
    assert result.params["entry"] == "xl/worksheets/sheet2.xml"
    assert result.params["ratio"] > 100


def test_entry_count_and_total_size_limits(issued, monkeypatch):
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(read.MAX_ZIP_ENTRIES + 1):
            archive.writestr(f"x/{i}.bin", b"")
    result = read_workbook(many.getvalue())
    assert isinstance(result, ReadFailure)
    assert result.code == "file.too_many_entries"
    assert result.params == {"entries": 2001, "limit": 2000}
    monkeypatch.setattr(read, "MAX_UNCOMPRESSED_BYTES", 10_000)
    assert failure_code(issued) == "file.too_large"


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n',
        b'<?xml version="1.0"?>\n<!-- <fake> -->\n<!DOCTYPE x [<!ENTITY a "b">]>\n',
        b'<?xml version="1.0"?>\n<!--' + b"x" * 70_000 + b"-->",
    ],
    ids=["doctype", "after-comment-with-tag", "endless-prolog"],
)
def test_xml_entity_declarations_refused(issued, head):
    def poison(name: str, part: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return part
        return head + part.split(b"?>", 1)[1]

    result = read_workbook(rezip(issued, poison))
    assert isinstance(result, ReadFailure)
    assert (result.code, result.params) == ("file.xml_doctype", {"entry": "xl/workbook.xml"})


def test_workbook_not_made_by_audit_xls():
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    out = io.BytesIO()
    book.save(out)
    result = read_workbook(out.getvalue())
    assert isinstance(result, ReadFailure)
    assert (result.code, result.params) == ("manifest.missing", {"sheets": "Sheet1"})


def test_hidden_rows_found_in_sheet_xml(standard, issued):
    book = openpyxl.load_workbook(io.BytesIO(issued))
    book["检查表"].row_dimensions[5].hidden = True
    out = io.BytesIO()
    book.save(out)
    raw = read_workbook(out.getvalue())
    assert isinstance(raw, RawWorkbook)
    assert raw.hidden_rows == {4}


def test_release_drops_the_grid(issued):
    raw = read_workbook(issued)
    assert isinstance(raw, RawWorkbook)
    raw.release()
    assert raw.grid == [] and raw.cover == {}


def test_formula_and_hidden_row_scan_takes_any_attribute_order_and_prefix():
    from audit_xls.read import _scan_sheet_xml

    xml = (
        b'<x:row hidden="1" r="5"><x:c s="3" r="H5" t="n"> <x:f>1+1</x:f></x:c>'
        b'<c r="G6"><f>A</f></c><c r="I6"><f>B</f></c><c r="J7"/><c r="D8"><f>x</f></c></x:row>'
    )
    formulas, hidden = _scan_sheet_xml(xml)
    assert formulas == {(4, 7), (5, 6)}  # H5 and G6; I6 is the deduction, D8 locked text
    assert hidden == {4}
