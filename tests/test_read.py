"""read.py: classify returned bytes safely, refuse bombs, extract raw inputs with locations."""

from __future__ import annotations

import io
import warnings
import zipfile

import openpyxl
import pytest
from returns import fill, issue, mini_standard

from audit_xls.model.diagnostics import message
from audit_xls.workbook import read
from audit_xls.workbook.read import RawWorkbook, ReadFailure, as_date, read_workbook


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
    assert (result.code, result.params) == ("manifest.missing", {"sheets": ["Sheet1"]})


def test_sheets_found_are_a_list_joined_when_worded():
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.create_sheet("Notes")
    out = io.BytesIO()
    book.save(out)
    result = read_workbook(out.getvalue())
    assert isinstance(result, ReadFailure)
    assert result.params == {"sheets": ["Sheet1", "Notes"]}
    assert "(sheet _manifest; sheets found: Sheet1, Notes)" in message(
        result.code, "en", **result.params
    )
    assert "Sheet1、Notes" in message(result.code, "zh", **result.params)


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
    from audit_xls.workbook.read import _scan_sheet_xml

    plain = (
        b'<row hidden="1" r="5"><c s="3" r="H5" t="n"> <f>1+1</f></c></row><row r="6">'
        b'<c r="G6"><f>A</f></c><c r="I6"><f>B</f></c><c r="J7"/><c r="D8"><f>x</f></c></row>'
    )
    prefixed = plain.replace(b"<", b"<x:").replace(b"<x:/", b"</x:")
    # a prefixed formula in an unprefixed cell, and cells placed by counting (no r=)
    mixed = plain.replace(b"<f>1+1</f>", b"<x:f>1+1</x:f>")
    no_refs = (
        b'<row hidden="1" r="5"><c/><c/><c/><c/><c/><c/><c/><c s="3" t="n"> <f>1+1</f></c></row>'
        b"<row><c/><c/><c/><c/><c/><c/><c><f>A</f></c><c/><c><f>B</f></c></row>"
    )
    for xml in (plain, prefixed, mixed, no_refs):
        formulas, hidden = _scan_sheet_xml(xml)
        assert formulas == {(4, 7), (5, 6)}, xml  # H5 and G6; I6 the deduction, D8 locked text
        assert hidden == {4}


# --- .ods and .xls saved by LibreOffice: the same checks as .xlsx -----------------------------


def _far_value(book: openpyxl.Workbook) -> None:
    book["检查表"]["C1000000"] = "far"  # LibreOffice keeps it; .xls cuts it at row 65536


def _hide_row(book: openpyxl.Workbook) -> None:
    book["检查表"].row_dimensions[11].hidden = True  # 2.2.01


@pytest.fixture(scope="module")
def saved(standard, issued, tmp_path_factory):
    """Returns saved by LibreOffice as .ods and .xls: one soffice call per format."""
    from audit_xls.soffice import convert

    base = tmp_path_factory.mktemp("saved")
    answers = {"1.1.01": ("不符合", 2, "袖口污渍"), "1.1.02": ('="符合"', None)}
    originals = {
        "plain": fill(issued, standard, {}, default=("符合", None)),
        "typed": fill(
            issued, standard, answers, cells={("检查表", "H9"): "=1+1", ("检查表", "J4"): "=A4"},
            default=("符合", None), change=_hide_row,
        ),
        "far": fill(issued, standard, {}, default=("符合", None), change=_far_value),
    }  # fmt: skip
    for name, data in originals.items():
        (base / f"{name}.xlsx").write_bytes(data)
    files = [base / f"{name}.xlsx" for name in originals]
    out = {}
    for extension, to in (("ods", "ods"), ("xls", "xls:MS Excel 97")):
        for path in convert(files, to, base / extension):
            out[f"{path.stem}.{extension}"] = path.read_bytes()
    return out


@pytest.mark.soffice
@pytest.mark.parametrize("extension", ["ods", "xls"])
def test_saved_returns_have_input_formulas_and_hidden_rows(saved, extension):
    typed = read_workbook(saved[f"typed.{extension}"])
    assert isinstance(typed, RawWorkbook)
    assert typed.kind == extension
    assert typed.input_formulas == {(4, 6), (8, 7), (3, 9)}  # G5, H9, J4
    assert typed.hidden_rows == {10}
    plain = read_workbook(saved[f"plain.{extension}"])
    assert isinstance(plain, RawWorkbook)
    assert (plain.input_formulas, plain.hidden_rows) == (set(), set())


@pytest.mark.soffice
def test_far_value_in_ods_refused_before_calamine(saved):
    import time

    start = time.perf_counter()
    result = read_workbook(saved["far.ods"])
    seconds = time.perf_counter() - start
    assert isinstance(result, ReadFailure)
    assert (result.code, result.sheet, result.cell) == (
        "file.sheet_too_large",
        "检查表",
        "K1000000",
    )
    assert result.params == {
        "name": "检查表", "corner": "K1000000", "rows": 1_000_000, "cols": 11, "limit": 1_000_000
    }  # fmt: skip
    assert seconds < 0.2, seconds


@pytest.mark.soffice
def test_far_value_in_xls_is_cut_by_the_format_and_read(saved):
    raw = read_workbook(saved["far.xls"])  # row 1,000,000 does not exist in BIFF8
    assert isinstance(raw, RawWorkbook)
    assert raw.input_formulas == set()


@pytest.mark.soffice
@pytest.mark.parametrize("extension", ["ods", "xls"])
def test_saved_returns_grade_with_the_answers_flagged(standard, saved, extension):
    from audit_xls.grading.validate import Checker

    checker = Checker([standard])
    typed = read_workbook(saved[f"typed.{extension}"])
    plain = read_workbook(saved[f"plain.{extension}"])
    codes = [(d.code, d.cell) for d in checker.check(typed, "t").diagnostics]
    assert [c for c in codes if c[0] in ("answer.formula", "checklist.hidden_rows")] == [
        ("checklist.hidden_rows", "A11"),
        ("answer.formula", "J4"),
        ("answer.formula", "G5"),
        ("answer.formula", "H9"),
    ]
    graded = checker.check(plain, "p")
    assert graded.diagnostics == []
    assert str(graded.card.total) == "7.00"


# --- hand scans cannot be bypassed by XML spellings calamine accepts ----------------------------


def _with_far_row(data: bytes, row: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        paths = read._sheet_paths(
            archive.read("xl/workbook.xml"), archive.read(read._WORKBOOK_RELS)
        )
    part = paths["检查表"]
    return rezip(
        data, lambda n, x: x.replace(b"</sheetData>", row + b"</sheetData>") if n == part else x
    )


@pytest.mark.parametrize(
    "row",
    [
        b"<row r='50000'><c r='AB50000' t='inlineStr'><is><t>x</t></is></c></row>",
        b'<row r = "50000"><c r\t=\n"ab050000" t="inlineStr"><is><t>x</t></is></c></row>',
        b'<row r="50000"><c r="B50000"><v>1</v></c>' + b"<c/>" * 25 + b"<c><v>1</v></c></row>",
    ],
    ids=["single-quotes", "spaces-lowercase-zeros", "cells-without-r"],
)
def test_far_cell_in_any_spelling_refused_before_calamine(issued, row):
    result = read_workbook(_with_far_row(issued, row))
    assert isinstance(result, ReadFailure)
    assert (result.code, result.sheet, result.cell) == ("file.sheet_too_large", "检查表", "AB50000")


def test_far_cell_with_a_character_reference_is_corrupt_not_a_crash(issued):
    row = b'<row r="&#50;0000"><c r="&#65;B50000" t="inlineStr"><is><t>x</t></is></c></row>'
    result = read_workbook(_with_far_row(issued, row))
    assert isinstance(result, ReadFailure)
    assert result.code == "file.corrupt"  # calamine reads no character reference in `r`


def test_formula_answer_found_in_any_attribute_spelling():
    from audit_xls.workbook.read import _scan_sheet_xml

    xml = b"<row r='5' hidden = '1'><c r = 'g5'><f>1</f></c><c r='H05' t='n'><f>2</f></c></row>"
    assert _scan_sheet_xml(xml) == ({(4, 6), (4, 7)}, {4})


def test_unterminated_comment_prolog_refused_fast(issued):
    import time

    bomb = rezip(
        issued, lambda n, x: b"<!--" * (read.XML_HEAD_LIMIT // 4) if n == "xl/styles.xml" else x
    )
    start = time.perf_counter()
    result = read_workbook(bomb)
    seconds = time.perf_counter() - start
    assert isinstance(result, ReadFailure)
    assert (result.code, result.params) == ("file.xml_doctype", {"entry": "xl/styles.xml"})
    assert seconds < 0.05, seconds


def test_doctype_in_a_part_not_named_xml_refused(issued):
    poisoned = rezip(
        issued,
        lambda n, x: (
            b'<?xml version="1.0"?><!-- a --><!DOCTYPE x [<!ENTITY a "b">]>' + x.split(b"?>", 1)[1]
            if n == "xl/styles.xml" else x
        ),
    )  # fmt: skip
    renamed = poisoned.replace(b"xl/styles.xml", b"xl/styles.bin")  # same length: names only
    result = read_workbook(renamed)
    assert isinstance(result, ReadFailure)
    assert (result.code, result.params) == ("file.xml_doctype", {"entry": "xl/styles.bin"})


def _patch_entry(
    data: bytes, name: str, offset_local: int, offset_central: int, value: int
) -> bytes:
    """Overwrite one 2-byte field of `name` in its local header and central directory entry."""
    import struct

    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    out = bytearray(data)
    struct.pack_into("<H", out, info.header_offset + offset_local, value)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + length] == name.encode():
            struct.pack_into("<H", out, central + offset_central, value)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def _sheet_renamed_bin(data: bytes) -> bytes:
    """The checklist part renamed .bin, the rels following it: names are not to be trusted."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        paths = read._sheet_paths(
            archive.read("xl/workbook.xml"), archive.read(read._WORKBOOK_RELS)
        )
    old = paths["检查表"].removeprefix("xl/").encode()
    new = old[:-4] + b".bin"
    moved = rezip(data, lambda n, x: x.replace(old, new) if n == read._WORKBOOK_RELS else x)
    return moved.replace(b"xl/" + old, b"xl/" + new)  # names in the headers, same length


@pytest.mark.parametrize(
    ("field", "value"),
    [("method", 9), ("method", 99), ("flags", 0x1)],
    ids=["deflate64", "aes", "encrypted"],
)
def test_unsupported_or_encrypted_part_is_corrupt_not_a_crash(issued, field, value):
    offsets = {"method": (8, 10), "flags": (6, 8)}[field]
    renamed = _sheet_renamed_bin(issued)
    assert isinstance(read_workbook(renamed), RawWorkbook)
    with zipfile.ZipFile(io.BytesIO(renamed)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".bin") or n == "xl/styles.xml"]
    assert len(names) == 2
    for name in names:
        result = read_workbook(_patch_entry(renamed, name, *offsets, value))
        assert isinstance(result, ReadFailure)
        assert result.code == "file.corrupt", (name, result)


@pytest.mark.soffice
@pytest.mark.parametrize(
    ("old", "new"),
    [(b"<table:table table:name=", b"<table:table\ntable:name="), (b"repeated=", b"repeated = ")],
    ids=["newline-after-table", "spaces-around-equals"],
)
def test_ods_spellings_do_not_hide_a_far_value_or_a_formula(saved, old, new):
    def respell(data: bytes) -> bytes:
        return rezip(data, lambda n, x: x.replace(old, new) if n == "content.xml" else x)

    far = read_workbook(respell(saved["far.ods"]))
    assert isinstance(far, ReadFailure)
    assert (far.code, far.sheet, far.cell) == ("file.sheet_too_large", "检查表", "K1000000")
    typed = read_workbook(respell(saved["typed.ods"]))
    assert isinstance(typed, RawWorkbook)
    assert typed.input_formulas == {(4, 6), (8, 7), (3, 9)}  # G5, H9, J4
    assert typed.hidden_rows == {10}


def test_a_zip_of_an_unsupported_version_is_corrupt_not_a_crash(issued):
    from returns import unsupported_zip_version

    result = read_workbook(unsupported_zip_version(issued))
    assert isinstance(result, ReadFailure)
    assert (result.code, result.params) == (
        "file.corrupt",
        {"error": "NotImplementedError: zip file version 12.8"},
    )


def test_cell_names_are_xlsxwriters() -> None:
    """layout.cell names cells without importing xlsxwriter (the readers' start): the same
    names, up to the huge corners a hostile sheet reports, and "" (with a warning) below 0."""
    import random
    import warnings

    from xlsxwriter.utility import xl_rowcol_to_cell

    from audit_xls.workbook.layout import cell

    rng = random.Random(12)
    cols = [*range(800), 16383, 16384, 18277, 18278, 475253, 1 << 40, *(rng.randrange(1 << 50)
            for _ in range(500))]  # fmt: skip
    for row in (0, 9, 1048575, 1 << 40):
        for col in cols:
            assert cell(row, col) == xl_rowcol_to_cell(row, col)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cell(-1, 0) == cell(0, -1) == xl_rowcol_to_cell(-1, 0) == ""


def test_manifest_values_are_read_as_text_whatever_their_type():
    """parse_manifest reads each cell as text: a whole float as its integer, None as "";
    rows after the criteria with a row number are criteria (ASCII digits, up to nine, with a
    code), rows with text first are the 复查 list, whole."""
    from datetime import date

    from audit_xls.workbook import layout

    head = [[key, f"v-{key}"] for key in layout.MANIFEST_KEYS]
    head[0] = ["tool", layout.MANIFEST_TOOL]
    head[1] = ["tool_version", 1.0]
    head[2] = ["template", None]
    grid: list[list[object]] = [*head, ["checksum", 12.5], ["row", "criterion"]]
    grid += [["4", "1.1.01"], [5.0, "1.1.02"], ["３", "x"], ["1234567890", "y"], ["6", ""],
             [], [None, "z"], ["复查", "a", 2.0, None, True, date(2026, 11, 1)], ["7"],
             [True, "b"]]  # fmt: skip
    manifest = layout.parse_manifest(grid)
    assert manifest is not None
    assert manifest.values["tool_version"] == "1" and manifest.values["template"] == ""
    assert manifest.checksum == "12.5"
    assert manifest.criterion_rows == ((3, "1.1.01"), (4, "1.1.02"))
    assert manifest.extra == (
        ("复查", "a", "2", "", "True", "2026-11-01"),
        ("True", "b"),
    )
    assert layout.parse_manifest(grid[: layout.MANIFEST_ROWS_HEADER]) is None
    assert layout.parse_manifest([["tool", "other"], *grid[1:]]) is None


ENTRY_FIELDS = ("filename", "flag_bits", "compress_type", "compress_size", "file_size",
                "header_offset")  # fmt: skip


def listing(data: bytes) -> list[tuple[object, ...]] | None:
    """zipfile's listing of the fields the reader uses; None when zipfile refuses the zip."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError):
        return None
    return [tuple(getattr(info, name) for name in ENTRY_FIELDS) for info in infos]


def usual_listing(data: bytes) -> list[tuple[object, ...]] | None:
    usual = read._UsualZip.of(data)
    if usual is None:
        return None
    assert len(usual.NameToInfo) <= len(usual.filelist)
    return [tuple(getattr(entry, name) for name in ENTRY_FIELDS) for entry in usual.infolist()]


def zip_of(parts: list[tuple[zipfile.ZipInfo | str, bytes]], comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # a name twice, on purpose
        for name, body in parts:
            archive.writestr(name, body)
        archive.comment = comment
    return out.getvalue()


def with_extra(name: str, extra: bytes) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.extra = extra
    return info


def test_the_usual_zip_is_listed_as_zipfile_lists_it(issued):
    """The quick read lists a usual zip's central directory itself (zipfile's ZipInfo
    objects cost half the read of a part): the same entries, or None for zipfile to list."""
    names = [("a.xml", b"<a/>"), ("xl/\u68c0\u67e5.xml", b"<b/>"), ("c.xml", b"x" * 5000)]
    usual = {
        "issued": issued,
        "names in UTF-8 and cp437": zip_of(names),
    }
    for case, data in usual.items():
        assert usual_listing(data) == listing(data) is not None, case
    unusual = {
        "an archive comment": zip_of(names, comment=b"note"),
        "bytes before the zip": b"MZ" + b"\0" * 100 + zip_of(names),
        "a NUL in a name": zip_of([("a@b.xml", b"<a/>"), *names]).replace(b"a@b", b"a\0b"),
        "a zip64 extra field": zip_of([(with_extra("d.xml", b"\x01\x00\x00\x00"), b"d")]),
        "a Unicode path extra field": zip_of(
            [(with_extra("d.xml", b"up\x06\x00\x01\x00\x00\x00\x00e"), b"d")]
        ),
        "an extra field cut short": zip_of([(with_extra("d.xml", b"UT\x09\x00\x01"), b"d")]),
        # calamine's zip reader refuses some extra fields zipfile takes (an extended
        # timestamp without its flags byte), reads a name twice as one part and a name alike
        # in another case as the last: zipfile's listing, where such names are refused
        "an extra field": zip_of(
            [*names, (with_extra("d.xml", b"UT\x05\x00\x01\x00\x00\x00\x00"), b"d")]
        ),
        "a name twice": zip_of([*names, ("a.xml", b"<c/>")]),
        "a name in another case": zip_of([*names, ("A.xml", b"<c/>")]),
        "a name alike with a backslash": zip_of(
            [*names, ("x/a.xml", b"<c/>"), ("y/a.xml", b"<d/>")]
        ).replace(b"y/a", b"x\\a"),
        "too small": zip_of([]),
    }
    for case, data in unusual.items():
        assert usual_listing(data) is None, case
    zip64 = io.BytesIO()
    with (
        zipfile.ZipFile(zip64, "w") as archive,
        archive.open("a.xml", "w", force_zip64=True) as part,
    ):
        part.write(b"<a/>" * 100)
    # zip64 in the local header only (sizes small): listed alike, read from the local header
    assert usual_listing(zip64.getvalue()) == listing(zip64.getvalue()) is not None


def test_a_damaged_zip_is_listed_as_zipfile_lists_it_or_left_to_it(issued):
    """Bytes changed in the central directory and its end record: whatever the quick listing
    gives, zipfile gives too."""
    import random

    end = len(issued)
    directory = int.from_bytes(issued[end - 6 : end - 2], "little")
    listed = 0
    for seed in range(3000):
        rng = random.Random(seed)
        data = bytearray(issued)
        for _ in range(rng.choice((1, 1, 2, 3))):
            at = rng.randrange(directory, len(data))
            how = rng.random()
            if how < 0.6:
                data[at] = rng.randrange(256)
            elif how < 0.8:
                data[at : at + 1] = b""
            else:
                data[at:at] = bytes([rng.randrange(256)])
        quick = usual_listing(bytes(data))
        if quick is not None:
            assert quick == listing(bytes(data)), seed
            listed += 1
    assert listed > 300, listed


def test_a_part_the_quick_read_cannot_locate_is_read_through_zipfile(issued, monkeypatch):
    """A local header flagged otherwise than its central entry: the quick read asks zipfile
    for the part, and reads the return as it read it on zipfile's own listing."""
    data = bytearray(issued)
    name = b"xl/worksheets/sheet2.xml"
    local = data.rfind(b"PK\x03\x04", 0, data.find(name))
    data[local + 6] |= 0x1  # "encrypted" in the local header only
    asked = []
    monkeypatch.setattr(read._UsualZip, "_zipfile", lambda self, real=read._UsualZip._zipfile: (
        asked.append(1), real(self))[1])  # fmt: skip
    quick = read_workbook(bytes(data))
    assert asked
    monkeypatch.setattr(read._UsualZip, "of", classmethod(lambda cls, data: None))
    assert repr(read_workbook(bytes(data))) == repr(quick)
    assert isinstance(quick, RawWorkbook)


def end_record(data: bytes, **fields: int) -> bytes:
    """The zip with fields of its end record changed (disk, directory_disk, counted, total)."""
    at = len(data) - 22
    offsets = {"disk": 4, "directory_disk": 6, "counted": 8, "total": 10}
    changed = bytearray(data)
    for name, value in fields.items():
        changed[at + offsets[name] : at + offsets[name] + 2] = value.to_bytes(2, "little")
    return bytes(changed)


def without_flag(data: bytes, name: bytes, flag: int) -> bytes:
    """The zip with a flag bit cleared in the central and local records of the part `name`."""
    changed = bytearray(data)
    # signature, where its flags are, its name's length, its fixed size
    for signature, flags, length, size in ((b"PK\x01\x02", 8, 28, 46), (b"PK\x03\x04", 6, 26, 30)):
        record = data.find(signature)
        while record >= 0:
            name_length = int.from_bytes(data[record + length : record + length + 2], "little")
            if data[record + size : record + size + name_length] == name:
                bits = int.from_bytes(data[record + flags : record + flags + 2], "little")
                changed[record + flags : record + flags + 2] = (bits & ~flag).to_bytes(2, "little")
            record = data.find(signature, record + 4)
    return bytes(changed)


CHECKLIST_PART = "xl/worksheets/sheet2.xml"  # the checklist of the mini standard's workbook
RELS_PART = "xl/_rels/workbook.xml.rels"


def members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def marked(data: bytes) -> bytes:
    """The checklist part with 77 in H4 (empty in the issued workbook)."""
    part = dict(members(data))[CHECKLIST_PART]
    new = part.replace(b'<c r="H4" s="13"/>', b'<c r="H4" s="13"><v>77</v></c>')
    assert new != part
    return new


def calamine_h4(data: bytes) -> object:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        return book.get_sheet_by_name("检查表").to_python(skip_empty_area=False)[3][7]
    finally:
        book.close()


def unicode_path(name: str, path: str) -> bytes:
    import zlib

    body = b"\x01" + zlib.crc32(name.encode()).to_bytes(4, "little") + path.encode()
    return b"up" + len(body).to_bytes(2, "little") + body


def test_a_part_calamine_opens_otherwise_than_zipfile_lists_it_is_refused(issued):
    """For a part's name calamine's zip reader opens another member than the one zipfile's
    listing gives the checks: of a name twice the last, of names alike in any letter case the
    last, a name zipfile cuts at a NUL by its whole name, a member by its Unicode path field,
    an unflagged UTF-8 name as UTF-8. A far cell in the member calamine opens aborted the
    process (the checks read the other): each such zip is refused, whatever its members hold.
    Here the member calamine opens holds 77 in H4, the other nothing."""
    parts = members(issued)
    mark = marked(issued)
    rels = dict(parts)[RELS_PART]
    utf8 = "xl/worksheets/\u00e9.xml"  # é: two bytes in UTF-8, "QQ" before the rename
    shapes = {
        "a name twice": zip_of([*parts, (CHECKLIST_PART, mark)]),
        "a name in another case, after": zip_of([*parts, (CHECKLIST_PART.upper(), mark)]),
        "a name cut at a NUL by zipfile": zip_of(
            [(CHECKLIST_PART + "@x", dict(parts)[CHECKLIST_PART]),
             *((n, mark if n == CHECKLIST_PART else b) for n, b in parts)]
        ).replace(b"sheet2.xml@x", b"sheet2.xml\0x"),
        "a Unicode path field": zip_of(
            [*parts, (with_extra("junk.xml", unicode_path("junk.xml", CHECKLIST_PART)), mark)]
        ),
        "an unflagged UTF-8 name": zip_of(
            [(n, b.replace(b'"worksheets/sheet2.xml"', '"worksheets/\u00e9.xml"'.encode()))
             for n, b in parts if n != CHECKLIST_PART]
            + [(utf8, dict(parts)[CHECKLIST_PART]), ("xl/worksheets/QQ.xml", mark)]
        ).replace(b"xl/worksheets/QQ.xml", utf8.encode()),
    }  # fmt: skip
    assert rels.count(b'"worksheets/sheet2.xml"') == 1
    for case, data in shapes.items():
        assert calamine_h4(data) == 77.0, case  # the member the checks did not read
        refused = read_workbook(data)
        assert isinstance(refused, ReadFailure) and refused.code == "file.corrupt", case
        assert "named twice or ambiguously" in refused.params["error"], case


def stream_cut(data: bytes, name: bytes) -> bytes:
    """The zip with the part `name`'s compressed size one less in its central and local
    records: its deflate stream cut before its end (every byte of the part still comes out)."""
    changed = bytearray(data)
    for signature, field, length, size in (
        (b"PK\x01\x02", 20, 28, 46),
        (b"PK\x03\x04", 18, 26, 30),
    ):
        record = data.find(signature)
        while record >= 0:
            name_length = int.from_bytes(data[record + length : record + length + 2], "little")
            if data[record + size : record + size + name_length] == name:
                compressed = int.from_bytes(data[record + field : record + field + 4], "little")
                changed[record + field : record + field + 4] = (compressed - 1).to_bytes(
                    4, "little"
                )
            record = data.find(signature, record + 4)
    return bytes(changed)


def test_a_zip_calamine_lists_otherwise_is_left_to_calamine(issued, monkeypatch):
    """Shapes of a usual zip calamine's zip reader lists or reads otherwise than zipfile: the
    entry counts (it reads as many entries as counted on this disk), the disk numbers, an
    extra field it refuses, a part compressed by bzip2 (zipfile reads it, calamine's reader
    does not), a part whose CRC does not match (calamine checks it when it reads a part to
    its end: the manifest here), a deflate stream cut before its end though every byte came
    out (calamine's reader fails the part when it reads it to its end). The quick read declines
    each; calamine's path says what."""
    from test_read_quick import both, wrong_crc

    count = len(members(issued))
    bzip2 = io.BytesIO()
    with zipfile.ZipFile(bzip2, "w") as archive:
        for name, body in members(issued):
            method = zipfile.ZIP_BZIP2 if name == CHECKLIST_PART else zipfile.ZIP_DEFLATED
            archive.writestr(name, body, method)
    shapes = {
        "one entry fewer counted": end_record(issued, counted=count - 1, total=count - 1),
        "one entry more counted": end_record(issued, counted=count + 1, total=count + 1),
        "counts that differ": end_record(issued, counted=3),
        "the disk numbers": end_record(issued, disk=1, directory_disk=1),
        "an extended timestamp without its flags": zip_of(
            [(with_extra(n, b"UT\x00\x00") if n == "docProps/app.xml" else n, b)
             for n, b in members(issued)]
        ),
        "a part by bzip2": bzip2.getvalue(),
        "the manifest's CRC": wrong_crc(issued, "xl/worksheets/sheet5.xml"),
        "the manifest's stream cut": stream_cut(issued, b"xl/worksheets/sheet5.xml"),
    }  # fmt: skip
    for case, data in shapes.items():
        listed = read._UsualZip.of(data) is not None
        assert listed is (case in ("a part by bzip2", "the manifest's CRC",
                                   "the manifest's stream cut")), case  # fmt: skip
        quick, slow, used = both(data, monkeypatch)
        assert quick == slow, case
        assert not used, case
