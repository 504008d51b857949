"""Differential fuzz of the quick xlsx reading (workbook/sheetxml.py) against calamine's path.

Bases: returns as build writes them (xlsxwriter: shared strings), as openpyxl fills them
(inline strings), the same with the strings moved to a shared table, a return of the shipped
standard, and (with LibreOffice) one LibreOffice saved. Each is mutated, seeded, in its sheet
XML, shared strings, styles, workbook.xml and relationships: attribute order, quoting and
spacing, prefixes, entities and character references, CDATA, rich text and phonetic runs,
xml:space, empty values, odd cell types and values (shared string indices out of range,
numbers like 1e400, NaN, -0, " 1", error texts), number formats, rows and cells out of order,
repeated or without `r`, shared formulas, long strings, merges, a BOM, UTF-16, an encoding
declared, a DOCTYPE behind the first KB, a second root, parts cut short, markup hidden in
quotes, comments and instructions, a part named twice, and random bytes. Each file is read
both ways (tests/test_read_quick.py's `both`): identical results (values and their types;
for every fifth file the check's diagnostics, answers and score too) or the same refusal;
nothing raises, no file takes seconds.

The first tests name what broke the quick path once (each now left to calamine, or read as
calamine reads it). AUDIT_XLS_FUZZ_CASES sets the random files per base (default 60;
more for a longer run).
"""

from __future__ import annotations

import io
import itertools
import os
import random
import re
import struct
import time
import warnings
import zipfile
from collections.abc import Callable

import pytest
from returns import fill, issue, mini_standard
from test_read_quick import both, set_cell

from audit_xls.grading.validate import Checker
from audit_xls.workbook import read, sheetxml
from audit_xls.workbook.read import RawWorkbook, read_workbook

COVER = "xl/worksheets/sheet1.xml"
CHECKLIST = "xl/worksheets/sheet2.xml"
MANIFEST = "xl/worksheets/sheet5.xml"
STRINGS = "xl/sharedStrings.xml"
STYLES = "xl/styles.xml"
WORKBOOK = "xl/workbook.xml"
RELS = "xl/_rels/workbook.xml.rels"
PACKAGE_RELS = "_rels/.rels"
NS_X = b' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SECONDS_PER_FILE = 5.0
CASES = int(os.environ.get("AUDIT_XLS_FUZZ_CASES", "60"))


def parts_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def zipped(parts: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # a name twice, on purpose
        for name, body in parts:
            archive.writestr(name, body)
    return out.getvalue()


def edited(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    return zipped([(n, change(b) if n == name else b) for n, b in parts_of(data)])


def to_shared(data: bytes) -> bytes:
    """The inline strings of every sheet moved to a shared strings table (as Excel saves)."""
    table: dict[bytes, int] = {}

    def share(match: re.Match[bytes]) -> bytes:
        index = table.setdefault(match.group(3), len(table))
        return match.group(1) + b' t="s"><v>' + str(index).encode() + b"</v></c>"

    cell = re.compile(
        rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?) t="inlineStr"><is>(<t(?: xml:space="preserve")?>)'
        rb"([^<]*)</t></is></c>"
    )
    parts = [(n, cell.sub(share, b) if n.startswith("xl/worksheets/") else b)
             for n, b in parts_of(data)]  # fmt: skip
    items = b"".join(
        b"<si><t" + (b' xml:space="preserve"' if t != t.strip() else b"") + b">" + t + b"</t></si>"
        for t in table
    )
    sst = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
        b'openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
        % (len(table), len(table), items)
    )
    parts.append((STRINGS, sst))
    out = []
    for name, body in parts:
        if name == "[Content_Types].xml" and b"sharedStrings" not in body:
            body = body.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            )
        if name == "xl/_rels/workbook.xml.rels" and b"sharedStrings" not in body:
            body = body.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/'
                b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            )
        out.append((name, body))
    return zipped(out)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


@pytest.fixture(scope="module")
def bases(standard, shipped_standard) -> dict[str, bytes]:
    built = issue(standard)
    answers = {
        "1.1.01": ("不符合", 2, "袖口污渍 & <破损>"),
        "1.1.02": ("符合", None),
        "2.2.02": ("不符合", 1, " 前后有空格 "),
    }
    filled = fill(built, standard, answers, default=("不适用", None))
    shipped = fill(issue(shipped_standard), shipped_standard, {}, default=("符合", None))
    return {"built": built, "filled": filled, "shared": to_shared(filled), "shipped": shipped}


def compared(data: bytes, monkeypatch, checker: Checker | None = None) -> bool:
    """Read both ways; assert identical results (and checks); True when the quick path read it."""
    started = time.process_time()
    quick, slow, used = both(data, monkeypatch)
    assert time.process_time() - started < SECONDS_PER_FILE
    assert quick == slow
    if checker is not None and quick[0] == "raw":
        with monkeypatch.context() as patched:
            from audit_xls.workbook import read

            patched.setattr(read, "_read_usual", lambda parts, digest: None)
            slow_raw = read_workbook(data)
        quick_raw = read_workbook(data)
        assert isinstance(quick_raw, RawWorkbook) and isinstance(slow_raw, RawWorkbook)
        a, b = checker.check(quick_raw, "x.xlsx"), checker.check(slow_raw, "x.xlsx")
        assert repr(a.diagnostics) == repr(b.diagnostics)
        assert repr(a.card) == repr(b.card)
        assert repr(a.answers) == repr(b.answers)
    return used


def test_the_bases_take_the_quick_path(bases, standard, shipped_standard, monkeypatch):
    checker = Checker([standard, shipped_standard])
    for name, data in bases.items():
        assert compared(data, monkeypatch, checker), name


# --- what broke the quick path once -------------------------------------------------------


def last_item(text: bytes, preserve: bool = False) -> Callable[[bytes], bytes]:
    space = b' xml:space="preserve"' if preserve else b""
    return lambda sst: sst.replace(b"</sst>", b"<si><t" + space + b">" + text + b"</t></si></sst>")


def nul_in_item(sst: bytes) -> bytes:
    items = sst.split(b"<si>")
    items[-3] = items[-3].replace(b">", b">\0", 1)
    return b"<si>".join(items)


# (part, change, then the checklist's J4 pointing at the last shared string)
FOUND: dict[str, tuple[str, Callable[[bytes], bytes], bool]] = {
    # calamine trims an unpreserved <t> after resolving its references
    "inline text, a space by reference first": (
        CHECKLIST, set_cell("J4", b'<c r="J4" t="inlineStr"><is><t>&#32;a</t></is></c>'), False),
    "inline text, a line end by reference last": (
        CHECKLIST, set_cell("J4", b'<c r="J4" t="inlineStr"><is><t>a&#10;</t></is></c>'), False),
    "shared text, a tab by reference first": (STRINGS, last_item(b"&#9;a"), True),
    "shared text, a carriage return by reference last": (STRINGS, last_item(b"a&#13;"), True),
    # the table decoded at once was split at "\0", shifting every later index
    "shared text with a NUL": (STRINGS, nul_in_item, False),
    # styles: calamine reads numFmt only inside <numFmts>, before <cellXfs>, any prefix, any
    # spelling of attributes, and matches numFmtId by its text
    "a dxf's numFmt redefining the date format": (STYLES, lambda x: x.replace(
        b"</styleSheet>",
        b'<dxfs count="1"><dxf><numFmt numFmtId="164" formatCode="General"/></dxf></dxfs>'
        b"</styleSheet>"), False),
    "a numFmt after a line end": (STYLES, lambda x: x.replace(
        b"</numFmts>", b'<numFmt\nnumFmtId="164" formatCode="General"/></numFmts>'), False),
    "a prefixed numFmt": (STYLES, lambda x: x.replace(b"<styleSheet ", b"<styleSheet" + NS_X + b" ")
        .replace(b"</numFmts>", b'<x:numFmt numFmtId="164" formatCode="General"/></numFmts>'),
        False),
    "a prefixed xf": (STYLES, lambda x: x.replace(b"<styleSheet ", b"<styleSheet" + NS_X + b" ")
        .replace(b'<cellXfs count="25"><xf ', b'<cellXfs count="25"><x:xf ', 1), False),
    "numFmtId spaced": (STYLES, lambda x: x.replace(b'<xf numFmtId="164"', b'<xf numFmtId = "164"'),
        False),
    "numFmtId single-quoted": (STYLES, lambda x: x.replace(
        b'<xf numFmtId="164"', b"<xf numFmtId='164'"), False),
    "numFmtId with a leading zero": (STYLES, lambda x: x.replace(
        b'<xf numFmtId="164"', b'<xf numFmtId="0164"'), False),
    "numFmts after cellXfs": (STYLES, lambda x: x.replace(
        b'<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd" /></numFmts>', b""
        ).replace(b"</styleSheet>", b'<numFmts count="1"><numFmt numFmtId="164" '
                  b'formatCode="yyyy-mm-dd" /></numFmts></styleSheet>'), False),
    "a numFmt in a comment": (STYLES, lambda x: x.replace(
        b"</numFmts>", b'<!-- <numFmt numFmtId="164" formatCode="General"/> --></numFmts>'),
        False),
    "a numFmt in CDATA": (STYLES, lambda x: x.replace(
        b"</numFmts>", b'<![CDATA[<numFmt numFmtId="164" formatCode="General"/>]]></numFmts>'),
        False),
    "styleSheet closed before cellXfs": (STYLES, lambda x: x.replace(
        b"<fonts", b"</styleSheet><fonts", 1), False),
    "a quoted > cutting an xf short": (STYLES, lambda x: x.replace(
        b'<xf numFmtId="164"', b'<xf a=">" numFmtId="164"'), False),
    "a quoted < in an xf": (STYLES, lambda x: x.replace(
        b'<xf numFmtId="164"', b'<xf a="<xf>" numFmtId="164"'), False),
    "numFmtId hidden in a single-quoted value": (STYLES, lambda x: x.replace(
        b'<xf numFmtId="164"', b'<xf a=\' numFmtId="0"\' numFmtId="164"'), False),
    "numFmts closing itself": (STYLES, lambda x: x.replace(
        b'<numFmts count="1">', b'<numFmts count="1"/>').replace(b"</numFmts>", b""), False),
    # markup in a quoted attribute is text to calamine
    "a cell quoted in a row's attribute": (CHECKLIST, lambda x: x.replace(
        b'<row r="6"', b'<row r="6" a=\'<c r="H6"><v>99</v></c>\'', 1), False),
    "a cell quoted after a quoted >": (CHECKLIST, lambda x: x.replace(
        b'<row r="6"', b'<row r="6" a=\'><c r="H6"><v>99</v></c>\'', 1), False),
    "merges quoted in an attribute": (CHECKLIST, lambda x: re.sub(
        rb"<mergeCells.*?</mergeCells>", b"", x, flags=re.S).replace(
        b"<sheetView ", b"<sheetView a='<mergeCells><mergeCell ref=\"G4:H4\"/></mergeCells>' ", 1),
        False),
    # calamine lists a <sheet> wherever it is
    "a sheet after </sheets>": (WORKBOOK, lambda x: x.replace(
        b"</sheets>", b'</sheets><sheet name="X" sheetId="9" r:id="rId1"/>'), False),
    "a sheet in definedNames": (WORKBOOK, lambda x: x.replace(
        b"</definedNames>", b'<sheet name="X" sheetId="9" r:id="rId1"/></definedNames>'), False),
    # calamine fails the whole file ("Cannot detect file format", a cell error) where the quick
    # path read on: an error text it does not know, malformed XML in a part it reads
    "an error cell of another text": (
        CHECKLIST, set_cell("J4", b'<c r="J4" t="e"><v>#GETTING_DATA</v></c>'), False),
    "an error cell's text spaced": (CHECKLIST, set_cell("J4", b'<c r="J4" t="e"><v> #N/A</v></c>'),
        False),
    "an error cell's text not UTF-8": (CHECKLIST, set_cell("J4", b'<c r="J4" t="e"><v>\xff</v></c>'),
        False),
    "a definedName never closed": (WORKBOOK, lambda x: x.replace(
        b"</definedName></definedNames>", b"</definedNames>"), False),
    "an end tag past the root's (workbook)": (WORKBOOK, lambda x: x.replace(
        b"</definedNames>", b"</definedNames></x>"), False),
    "an end tag past the root's (styles)": (STYLES, lambda x: x.replace(
        b"</cellXfs>", b"</xf></cellXfs>"), False),
    "an attribute without quotes (workbookPr)": (WORKBOOK, lambda x: x.replace(
        b"<workbookPr", b"<workbookPr a=1"), False),
    "an attribute without quotes (dimension)": (CHECKLIST, lambda x: x.replace(
        b"<dimension ", b"<dimension a=1 "), False),
    "an attribute without quotes (sst)": (STRINGS, lambda x: x.replace(b"<sst ", b"<sst a=1 "),
        False),
    "an attribute without quotes (xf, before numFmtId)": (STYLES, lambda x: x.replace(
        b'<xf numFmtId="164" fontId="3"', b'<xf fontId=3 numFmtId="164"'), False),
    "a quote never closed after cellXfs": (STYLES, lambda x: x.replace(
        b"</styleSheet>", b'<dxfs a="></styleSheet>'), False),
    "an attribute without quotes (relationship)": (RELS, lambda x: x.replace(
        b"<Relationship ", b"<Relationship a=1 ", 1), False),
    "relationships cut short": (RELS, lambda x: x.replace(b"</Relationships>", b""), False),
    "the package's relationships cut short": (PACKAGE_RELS, lambda x: x[:60], False),
    "the workbook's target with a reference calamine refuses": (PACKAGE_RELS, lambda x: x.replace(
        b'Target="xl/workbook.xml"', b'Target="xl/workbook&#0;xml"'), False),
    "the workbook in another folder": (PACKAGE_RELS, lambda x: x.replace(
        b'Target="xl/workbook.xml"', b'Target="x/workbook.xml"'), False),
    "a defined name's text not UTF-8": (WORKBOOK, lambda x: x.replace(
        b">_lists!", b">\xe6_lists!"), False),
    "an XML declaration garbled": (PACKAGE_RELS, lambda x: x.replace(
        b'encoding="UTF-8" standalone', b'encoding="UTF-8"9standalone'), False),
    "a relationship's attribute twice": (RELS, lambda x: x.replace(
        b'Target="worksheets/sheet2.xml"',
        b'Target="worksheets/sheet2.xml" Target="worksheets/sheet2.xml"'), False),
    "a sheet's relationship of another type": (RELS, lambda x: x.replace(
        b'relationships/worksheet" Target="worksheets/sheet5.xml"',
        b'relationships/worksheeet" Target="worksheets/sheet5.xml"'), False),
    "the cover's merges cut short": (COVER, lambda x: x[: x.find(b"<mergeCell ") + 15], False),
    # calamine reads a relative target below xl/ ("xl/worksheets/..." is xl/xl/worksheets/...):
    # read.py's checks looked at another part than calamine read
    "a sheet's target spelled from the root without /": (RELS, lambda x: x.replace(
        b'Target="worksheets/sheet2.xml"', b'Target="xl/worksheets/sheet2.xml"'), False),
}  # fmt: skip


# read the quick way now, as calamine reads them
READ_QUICKLY = {"a dxf's numFmt redefining the date format", "shared text with a NUL"}


def last_string_in_j4(data: bytes) -> bytes:
    count = dict(parts_of(data))[STRINGS].count(b"<si>")
    return edited(data, CHECKLIST, set_cell("J4", b'<c r="J4" t="s"><v>%d</v></c>' % (count - 1)))


def test_a_part_named_twice_is_left_to_calamine(bases, monkeypatch):
    """A part named twice (the second here declares a DOCTYPE): calamine opens the last of a
    name, the checks once looked at the first, so such a zip is refused, never read quickly
    (the quick path once checked the first's bytes twice)."""
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    for part in (STYLES, CHECKLIST, WORKBOOK):
        data = zipped([*parts_of(bases["built"]), (part, doctype)])
        assert compared(data, monkeypatch) is False


def test_the_part_calamine_reads_for_a_sheet_is_the_part_checked(bases, monkeypatch):
    """A relative target "xl/worksheets/sheet2.xml" is xl/xl/worksheets/sheet2.xml to
    calamine: the checks (extent, strings, dates) and the quick path must read that part."""
    data = edited(bases["built"], RELS, lambda x: x.replace(
        b'Target="worksheets/sheet2.xml"', b'Target="xl/worksheets/sheet2.xml"'))  # fmt: skip
    sheet = dict(parts_of(data))[CHECKLIST]
    shadow = sheet.replace(b'<c r="H4" s="13"/>', b'<c r="H4" s="13"><v>2</v></c>')
    far = sheet.replace(b'<c r="H4" s="13"/>', b'<c r="XFD1048576"><v>1</v></c>')
    assert shadow != sheet and far != sheet
    with_shadow = zipped([*parts_of(data), ("xl/xl/worksheets/sheet2.xml", shadow)])
    compared(with_shadow, monkeypatch)
    raw = read_workbook(with_shadow)
    assert isinstance(raw, RawWorkbook) and raw.value(3, 7) == 2.0
    refused = read_workbook(zipped([*parts_of(data), ("xl/xl/worksheets/sheet2.xml", far)]))
    assert not isinstance(refused, RawWorkbook) and refused.code == "file.sheet_too_large"


def test_the_workbook_calamine_reads_in_another_folder_is_the_one_checked(bases, monkeypatch):
    """_rels/.rels pointing calamine at foo/workbook.xml, a copy of xl/ there with a far cell:
    the checks read xl/ once, and calamine's reader aborted on foo/'s far cell."""
    out = []
    for name, body in parts_of(bases["built"]):
        if name == PACKAGE_RELS:
            body = body.replace(b'Target="xl/workbook.xml"', b'Target="foo/workbook.xml"')
        out.append((name, body))
        if name.startswith("xl/"):
            if name == CHECKLIST:
                body = body.replace(b'<c r="H4" s="13"/>', b'<c r="XFD1048576"><v>1</v></c>')
            out.append(("foo/" + name[3:], body))
    data = zipped(out)
    assert compared(data, monkeypatch) is False
    refused = read_workbook(data)
    assert not isinstance(refused, RawWorkbook) and refused.code == "file.sheet_too_large"


def test_a_return_without_package_relationships_is_left_to_calamine(bases, monkeypatch):
    data = zipped([(n, b) for n, b in parts_of(bases["built"]) if n != PACKAGE_RELS])
    assert compared(data, monkeypatch) is False  # calamine refuses it


@pytest.mark.parametrize("name", sorted(FOUND))
def test_what_broke_the_quick_path_is_left_to_calamine(
    bases, standard, shipped_standard, monkeypatch, name
):
    part, change, point = FOUND[name]
    base = bases["shared" if part == STRINGS else "filled" if part == STYLES else "built"]
    data = edited(base, part, change)
    assert data != base
    if point:
        data = last_string_in_j4(data)
    checker = Checker([standard, shipped_standard])
    assert compared(data, monkeypatch, checker) is (name in READ_QUICKLY)


# --- the fuzz -------------------------------------------------------------------------------

CELL_TAG = re.compile(rb"<c [^>]*?(?:/>|>.*?</c>)", re.S)
ROW_TAG = re.compile(rb"<row [^>]*>")
SI_ITEM = re.compile(rb"<si>.*?</si>", re.S)

VALUES = [b"", b" ", b"0", b"1", b"-0", b"1e400", b"-1e400", b"1e-400", b"NaN", b"inf", b" 1",
          b"1 ", b"+1", b"1.", b".5", b"1.5E3", b"00012", b"9" * 40, b"0.1" + b"3" * 30,
          b"45000", b"45000.5", b"60", b"61", b"2958465", b"2958466", b"-45000", b"-1e11",
          b"true", b"false", b"TRUE", b"#N/A", b"#DIV/0!", b"#NAME?", b"#BOGUS", b"abc",
          b"&amp;", b"&#32;x", b"x&#10;", b"&#0;", b"&#xD800;", b"&#x1F600;", b"&nbsp;", b"_x0031_",
          b"_X0031_", b"a\r\nb", "符合".encode(), "不适用".encode(), "３".encode(), b"\xff\xfe",
          b"<![CDATA[x]]>", b"2026-11-12", b"2026-11-12T00:00:00", b"-1", b"4294967296",
          b"99999999999999999999", b"\x00", b"\t1\t"]  # fmt: skip
TYPES = [None, b"s", b"str", b"e", b"b", b"d", b"n", b"inlineStr", b"S", b"", b"x", b" s "]
TEXTS = [b"a", b" a", b"a ", b"&#32;a", b"a&#9;", b"&amp;&lt;&gt;&quot;&apos;", b"&#26816;&#x68C0;",
         b"_x0041_", b"_x005F_x0041_", b"a\nb", b"a\r\nb", b"\xe3\x80\x80a", b"x" * 40_000,
         b"<![CDATA[<b>]]>", b"", "符合".encode(), b"a\x00b", b"&#13;", b"\x01", b"&#1;"]  # fmt: skip
NUMBER_FORMATS = [b"General", b"0", b"0.00", b"@", b"yyyy-mm-dd", b"yyyy/m/d", b"m/d/yyyy",
                  b"yyyy-mm-dd hh:mm", b"hh:mm:ss", b"[h]:mm", b"0.00%", b"#,##0", b"d-mmm-yy",
                  b'"yyyy"', b"yyyy&quot;-&quot;mm", b"[$-F800]dddd", b"e/m/d", b"0;[Red]-0",
                  b"[DBNum1]yyyy", b"mm:ss.0", b"yyyy\\-mm\\-dd", b"General;@"]  # fmt: skip


def pick(rng: random.Random, pattern: re.Pattern[bytes], xml: bytes) -> re.Match[bytes] | None:
    found = list(pattern.finditer(xml))
    return rng.choice(found) if found else None


def splice(xml: bytes, match: re.Match[bytes] | None, new: bytes) -> bytes:
    if match is None:
        return xml
    return xml[: match.start()] + new + xml[match.end() :]


def odd_value(rng: random.Random) -> bytes:
    return rng.choice(VALUES)


def odd_text(rng: random.Random) -> bytes:
    return rng.choice(TEXTS)


def new_cell(rng: random.Random, ref: bytes, style: bytes) -> bytes:
    kind = rng.choice(TYPES)
    t = b"" if kind is None else b' t="' + kind + b'"'
    s = style if rng.random() < 0.7 else b' s="' + str(rng.randrange(40)).encode() + b'"'
    how = rng.random()
    if how < 0.45:
        content = b"<v>" + odd_value(rng) + b"</v>"
    elif how < 0.55:
        content = rng.choice([b"<v/>", b"<v />", b"<v></v>", b""])
    elif how < 0.75:
        space = rng.choice([b"", b' xml:space="preserve"', b' xml:space="default"'])
        runs = rng.random()
        if runs < 0.6:
            inner = b"<t" + space + b">" + odd_text(rng) + b"</t>"
        elif runs < 0.8:
            inner = b"<r><t>" + odd_text(rng) + b"</t></r><r><rPr><b/></rPr><t" + space + b">"
            inner += odd_text(rng) + b"</t></r>"
        else:
            inner = b"<t>" + odd_text(rng) + b'</t><rPh sb="0" eb="1"><t>PH</t></rPh>'
        content = b"<is>" + inner + b"</is>"
    elif how < 0.9:
        formula = rng.choice([b"<f>1+1</f>", b'<f t="shared" ref="G4:G9" si="0">1</f>',
                              b'<f t="shared" si="0"/>', b"<f/>", b'<f aca="false">A1</f>',
                              b'<f t="array" ref="H4">1</f>'])  # fmt: skip
        content = formula + rng.choice([b"", b"<v>" + odd_value(rng) + b"</v>", b"<v/>"])
    else:
        content = b"<v>" + odd_value(rng) + b"</v><f>1</f>"
    if not content and rng.random() < 0.5:
        return b"<c r=" + b'"' + ref + b'"' + s + t + b"/>"
    return b'<c r="' + ref + b'"' + s + t + b">" + content + b"</c>"


def respell_tag(rng: random.Random, tag: bytes) -> bytes:
    """A start tag's attributes reordered, requoted or respaced."""
    head = re.match(rb"<([\w:]+)", tag)
    assert head is not None
    attrs = re.findall(rb'([\w:]+)="([^"]*)"', tag)
    closing = tag.rstrip(b">").endswith(b"/")
    how = rng.random()
    if how < 0.3:
        rng.shuffle(attrs)
    quote = b"'" if rng.random() < 0.3 else b'"'
    space = rng.choice([b" ", b"  ", b"\n", b"\t", b" \r\n "])
    eq = rng.choice([b"=", b"=", b" = ", b"\n=\n"])
    body = b"".join(space + k + eq + quote + v + quote for k, v in attrs)
    return b"<" + head.group(1) + body + rng.choice([b"", b" "]) + (b"/>" if closing else b">")


def mutate_sheet(xml: bytes, rng: random.Random) -> bytes:
    how = rng.randrange(16)
    found = pick(rng, CELL_TAG, xml)
    if found is None:
        return xml
    whole = found.group(0)
    ref_match = re.search(rb'r="([A-Z]+)([0-9]+)"', whole)
    ref = ref_match.group(1) + ref_match.group(2) if ref_match else b"A1"
    style_match = re.search(rb' s="[0-9]+"', whole)
    style = style_match.group(0) if style_match else b""
    if how <= 4:  # another content, type and value
        return splice(xml, found, new_cell(rng, ref, style))
    if how == 5:  # attributes respelled
        tag = re.match(rb"<c [^>]*?/?>", whole)
        assert tag is not None
        return splice(xml, found, respell_tag(rng, tag.group(0)) + whole[tag.end() :])
    if how == 6:  # the reference respelled, dropped or moved far
        new_ref = rng.choice([b"", ref.lower(), ref_match.group(1) + b"0" + ref_match.group(2)
                              if ref_match else b"A01", b"Z500", b"XFD1", b"A1048577", b"AAAA1",
                              b"A0", b"J" + (ref_match.group(2) if ref_match else b"1")])  # fmt: skip
        if not new_ref:
            return splice(xml, found, re.sub(rb' r="[^"]*"', b"", whole, count=1))
        return splice(xml, found, whole.replace(b'r="' + ref + b'"', b'r="' + new_ref + b'"', 1))
    if how == 7:  # the cell given twice, or moved to the end of the sheet's data
        twin = new_cell(rng, ref, style)
        if rng.random() < 0.5:
            return splice(xml, found, whole + twin)
        moved = splice(xml, found, b"")
        return moved.replace(b"</row></sheetData>", whole + b"</row></sheetData>", 1)
    if how == 8:  # rows: order, numbers, spelling
        rows = list(ROW_TAG.finditer(xml))
        if not rows:
            return xml
        row = rng.choice(rows)
        tag = row.group(0)
        choice = rng.random()
        if choice < 0.25:
            tag = re.sub(rb' r="[0-9]+"', b"", tag)
        elif choice < 0.5:
            tag = re.sub(rb' r="[0-9]+"', b' r="' + str(rng.randint(1, 40)).encode() + b'"', tag)
        elif choice < 0.7:
            tag = respell_tag(rng, tag)
        elif choice < 0.85:
            tag = tag[:-1] + rng.choice([b' hidden="1"', b" a='<c r=\"H4\"><v>7</v></c>'",
                                         b' a="&gt;"', b" a='>'"]) + b">"  # fmt: skip
        else:
            body = re.search(rb"<sheetData>(.*)</sheetData>", xml, re.S)
            if body is None:
                return xml
            all_rows = re.findall(rb"<row [^>]*>.*?</row>|<row [^>]*/>", body.group(1), re.S)
            rng.shuffle(all_rows)
            return xml[: body.start(1)] + b"".join(all_rows) + xml[body.end(1) :]
        return splice(xml, row, tag)
    if how == 9:  # prefixes
        root = re.search(rb"<worksheet ", xml)
        if root is None:
            return xml
        xml = xml.replace(b"<worksheet ", b"<worksheet" + NS_X + b" ", 1)
        which = rng.choice([b"c", b"row", b"sheetData", b"v", b"is", b"t", b"mergeCells"])
        if which == b"c" and rng.random() < 0.5:
            return splice(xml, pick(rng, CELL_TAG, xml), whole.replace(b"<c ", b"<x:c ", 1)
                          .replace(b"</c>", b"</x:c>"))  # fmt: skip
        return re.sub(rb"<(/?)" + which + rb"([ >/])", rb"<\1x:" + which + rb"\2", xml)
    if how == 10:  # whitespace and text between the tags of sheetData
        where = rng.choice([b"<c ", b"</c>", b"<v>", b"</row>", b"<row "])
        filler = rng.choice([b" ", b"\n", b"\r\n\t", b"x", b"&amp;", b"&bogus;", b">", b'"'])
        return xml.replace(where, filler + where, rng.randint(1, 3))
    if how == 11:  # merges
        merge = rng.choice([b'<mergeCell ref="G4:H4"/>', b'<mergeCell ref="H4:G4"/>',
                            b'<mergeCell ref="g4:h4"/>', b"<mergeCell ref='G4:H4'/>",
                            b'<mergeCell ref="G4"/>', b'<mergeCell  ref="A1:K1" />'])  # fmt: skip
        if b"</mergeCells>" in xml:
            return xml.replace(b"</mergeCells>", merge + b"</mergeCells>", 1)
        return xml.replace(b"</sheetData>", b"</sheetData><mergeCells>" + merge + b"</mergeCells>")
    if how == 12:  # markup hidden in quotes, comments and CDATA
        hidden = rng.choice([b'<c r="H5"><v>5</v></c>', b"<sheetData>", b"</sheetData>",
                             b'<mergeCells><mergeCell ref="A1:B2"/></mergeCells>', b"<row r=\"2\">"])  # fmt: skip
        where = rng.choice([b"<sheetView ", b"<sheetFormatPr ", b"<row ", b"<pageMargins "])
        wrap = rng.choice([b"<!--%s-->", b"<![CDATA[%s]]>", b"<?pi %s?>"])
        if rng.random() < 0.5:
            return xml.replace(where, where + b"a='" + hidden + b"' ", 1)
        return xml.replace(where, wrap % hidden + where, 1)
    if how == 13:  # a long string
        return splice(xml, found, b'<c r="' + ref + b'" t="inlineStr"><is><t>'
                      + b"\xe5\xad\x97" * rng.choice([1000, 30_000]) + b"</t></is></c>")  # fmt: skip
    if how == 14:  # dimension and sheetPr
        return re.sub(
            rb'<dimension ref="[^"]*"/>',
            rng.choice([b'<dimension ref="A1:XFD1048576"/>', b'<dimension ref="A1"/>', b""]),
            xml,
        )
    return mutate_bytes(xml, rng)


def mutate_strings(xml: bytes, rng: random.Random) -> bytes:
    how = rng.randrange(8)
    item = pick(rng, SI_ITEM, xml)
    if item is None:
        return xml
    if how <= 2:
        space = rng.choice([b"", b' xml:space="preserve"', b" xml:space='preserve'"])
        choice = rng.random()
        if choice < 0.5:
            new = b"<si><t" + space + b">" + odd_text(rng) + b"</t></si>"
        elif choice < 0.7:
            new = b"<si><r><t>" + odd_text(rng) + b"</t></r><r><t" + space + b">"
            new += odd_text(rng) + b"</t></r></si>"
        elif choice < 0.85:
            new = b"<si><t>" + odd_text(rng) + b'</t><rPh sb="0" eb="1"><t>P</t></rPh>'
            new += b'<phoneticPr fontId="1"/></si>'
        else:
            new = rng.choice([b"<si/>", b"<si></si>", b"<si><t/></si>", b"<si><r><t/></r></si>",
                              b"<si>x</si>", b'<si><t  xml:space="preserve">a</t></si>'])  # fmt: skip
        return splice(xml, item, new)
    if how == 3:  # an item dropped or added: every later index moves
        if rng.random() < 0.5:
            return splice(xml, item, b"")
        return splice(xml, item, item.group(0) + b"<si><t>+</t></si>")
    if how == 4:  # prefixed
        xml = xml.replace(b"<sst ", b"<sst" + NS_X + b" ", 1)
        which = rng.choice([b"si", b"t", b"sst", b"r"])
        return re.sub(rb"<(/?)" + which + rb"([ >/])", rb"<\1x:" + which + rb"\2", xml)
    if how == 5:  # whitespace and junk between items
        filler = rng.choice([b" ", b"\n", b"x", b"<!-- c -->", b"&amp;", b"<?pi?>"])
        return xml.replace(b"</si><si>", b"</si>" + filler + b"<si>", rng.randint(1, 3))
    return mutate_bytes(xml, rng)


def mutate_styles(xml: bytes, rng: random.Random) -> bytes:
    how = rng.randrange(8)
    if how <= 1:
        code = rng.choice(NUMBER_FORMATS)
        return re.sub(rb'(<numFmt numFmtId="[0-9]+" formatCode=")[^"]*"',
                      lambda m: m.group(1) + code + b'"', xml, count=1)  # fmt: skip
    if how == 2:  # an xf's numFmtId
        ids = [b"0", b"1", b"14", b"014", b"22", b"45", b"49", b"164", b"165", b" 14", b"x"]
        xfs = list(re.finditer(rb'<xf numFmtId="[^"]*"', xml))
        if not xfs:
            return xml
        return splice(xml, rng.choice(xfs), b'<xf numFmtId="' + rng.choice(ids) + b'"')
    if how == 3:  # a numFmt added somewhere
        new = b'<numFmt numFmtId="%d" formatCode="%s"/>' % (
            rng.choice([0, 14, 164, 165]),
            rng.choice(NUMBER_FORMATS),
        )
        where = rng.choice([b"</numFmts>", b"</styleSheet>", b"<cellXfs", b"<fonts"])
        if where == b"</styleSheet>":
            new = b"<dxfs><dxf>" + new + b"</dxf></dxfs>"
        return xml.replace(where, new + where, 1)
    if how == 4:  # tags respelled
        tags = list(re.finditer(rb"<(?:xf|numFmt) [^>]*>", xml))
        if not tags:
            return xml
        tag = rng.choice(tags)
        return splice(xml, tag, respell_tag(rng, tag.group(0)))
    if how == 5:  # prefixes
        xml = xml.replace(b"<styleSheet ", b"<styleSheet" + NS_X + b" ", 1)
        which = rng.choice([b"xf", b"numFmt", b"numFmts", b"cellXfs"])
        return re.sub(rb"<(/?)" + which + rb"([ >/])", rb"<\1x:" + which + rb"\2", xml, count=1)
    return mutate_bytes(xml, rng)


def mutate_workbook(xml: bytes, rng: random.Random) -> bytes:
    how = rng.randrange(6)
    if how == 0:  # visibility
        state = rng.choice([b"", b' state="hidden"', b' state="veryHidden"', b' state="HIDDEN"',
                            b" state='hidden'", b' state="visible"'])  # fmt: skip
        xml = xml.replace(b' state="veryHidden"', b"")
        return xml.replace(b'name="_manifest"', b'name="_manifest"' + state, 1)
    if how == 1:  # names with references
        names = [b"_manifest", "检查表".encode(), "基本信息".encode()]
        name = rng.choice(names)
        spelled = rng.choice([b"&#95;manifest", b"_manifes&#x74;", b"_manifest ", b"_Manifest",
                              "检&#26597;表".encode(), b"_x005F_manifest"])  # fmt: skip
        return xml.replace(b'name="' + name + b'"', b'name="' + spelled + b'"', 1)
    if how == 2:
        sheets = list(re.finditer(rb"<sheet [^>]*/>", xml))
        if not sheets:  # none left as spelled (an earlier change re-encoded the part)
            return mutate_bytes(xml, rng)
        return splice(xml, rng.choice(sheets), respell_tag(rng, rng.choice(sheets).group(0)))
    if how == 3:
        return xml.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1)
    return mutate_bytes(xml, rng)


NASTY = [b"-1e20", b"NaN", b"1e400", b"XFD1048576", b"99999999999", b"&#0;", b"<", b">", b'"',
         b"'", b"#N/A", b"-0", b"1048577", b"</c>", b"<c>", b"<f>1</f>", b'r="A0"', b"\xff\xfe",
         b"<!--", b"-->", b"<![CDATA[", b"]]>", b"&amp;", b"&#x20;", b"<x:c ", b" "]  # fmt: skip


def mutate_bytes(xml: bytes, rng: random.Random) -> bytes:
    buf = bytearray(xml)
    for _ in range(rng.choice((1, 2, 3))):
        at = rng.randrange(len(buf) or 1)
        how = rng.random()
        if how < 0.5:
            buf[at : at + rng.randint(0, 8)] = rng.choice(NASTY)
        elif how < 0.7:
            buf[at:at] = buf[at : at + rng.randint(1, 80)]
        else:
            del buf[at : at + rng.randint(1, 20)]
    return bytes(buf)


def mutate_whole(xml: bytes, rng: random.Random) -> bytes:
    """A part's encoding, prolog and end."""
    how = rng.randrange(8)
    if how == 0:
        return b"\xef\xbb\xbf" + xml
    if how == 1:
        declared = xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1)
        return declared.decode("utf-8", "replace").encode(rng.choice(["utf-16", "utf-16-le"]))
    if how == 2:  # a DOCTYPE behind a long comment, or inside the root
        doctype = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>'
        if rng.random() < 0.5:
            return xml.replace(b"?>", b"?><!--" + b"p" * 1100 + b"-->" + doctype, 1)
        end = xml.find(b">", xml.find(b"<", 5) + 1) + 1
        return xml[:end] + doctype + xml[end:]
    if how == 3:  # a second root
        return xml + rng.choice([b"<worksheet/>", b"<sst/>", b"<x/>", b"junk"])
    if how == 4:  # cut short
        return xml[: rng.randrange(len(xml))]
    if how == 5:  # a comment or instruction before the root
        return xml.replace(b"?>", b"?>" + rng.choice([b"<!-- c -->", b"<?pi x?>", b"\n\n"]), 1)
    if how == 6:
        return xml.replace(b'encoding="UTF-8"', b'encoding="windows-1252"', 1)
    return xml.replace(b"\n", b"\r\n")


def mutate(data: bytes, rng: random.Random) -> bytes:
    parts = parts_of(data)
    names = [name for name, _ in parts]
    targets = [n for n in (CHECKLIST, COVER, MANIFEST, STRINGS, STYLES, WORKBOOK) if n in names]
    if rng.random() < 0.1:
        targets = [n for n in (RELS, PACKAGE_RELS) if n in names]
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        target = rng.choice(targets)
        index = names.index(target)
        body = parts[index][1]
        if rng.random() < 0.12:
            body = mutate_whole(body, rng)
        elif target in (RELS, PACKAGE_RELS):
            body = mutate_bytes(body, rng)
        elif target == STRINGS:
            body = mutate_strings(body, rng)
        elif target == STYLES:
            body = mutate_styles(body, rng)
        elif target == WORKBOOK:
            body = mutate_workbook(body, rng)
        else:
            body = mutate_sheet(body, rng)
        parts[index] = (target, body)
    if rng.random() < 0.03:  # the same name twice, the second refused by the checks
        target = rng.choice(targets)
        parts.append((target, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'))
    return zipped(parts)


def fuzz(bases: dict[str, bytes], names: list[str], cases: int, monkeypatch, checker) -> dict:
    seen = {"quick": 0, "calamine": 0, "refused": 0}
    for name in names:
        for seed in range(cases):
            rng = random.Random(f"{name}-{seed}")
            data = mutate(bases[name], rng)
            try:
                used = compared(data, monkeypatch, checker if seed % 5 == 0 else None)
            except AssertionError as error:
                raise AssertionError(
                    f"{name} seed {seed}: read otherwise by the quick path"
                ) from error
            quick = read_workbook(data) if not used else None
            if used:
                seen["quick"] += 1
            elif isinstance(quick, RawWorkbook):
                seen["calamine"] += 1
            else:
                seen["refused"] += 1
    return seen


def test_mutated_returns_read_alike(bases, standard, shipped_standard, monkeypatch):
    checker = Checker([standard, shipped_standard])
    seen = fuzz(bases, ["built", "filled", "shared", "shipped"], CASES, monkeypatch, checker)
    # the mutations reach all three outcomes, or they prove little
    assert all(count > CASES // 10 for count in seen.values()), seen


@pytest.mark.soffice
def test_mutated_libreoffice_returns_read_alike(bases, tmp_path, standard, monkeypatch):
    from audit_xls.soffice import convert

    source = tmp_path / "return.xlsx"
    source.write_bytes(bases["filled"])
    (saved,) = convert([source], "xlsx:Calc MS Excel 2007 XML", tmp_path / "saved")
    data = saved.read_bytes()
    bases = {"libreoffice": data}
    # calamine's path reads it (date1904="false", its date format yyyy\-mm\-dd): its
    # mutations reach the quick path only where they happen to make it usual
    compared(data, monkeypatch, Checker([standard]))
    fuzz(bases, ["libreoffice"], max(CASES // 2, 10), monkeypatch, Checker([standard]))


# --- the zip around the parts ---------------------------------------------------------------

END = struct.Struct("<4s4H2LH")  # the end record: disks, counts, directory size and offset
CENTRAL_FIXED = 46
NAMES = [b"xl/workbook.xml", b"xl/_rels/workbook.xml.rels", b"_rels/.rels", STYLES.encode(),
         STRINGS.encode(), CHECKLIST.encode(), COVER.encode(), MANIFEST.encode()]  # fmt: skip
EXTRAS = [b"UT\x00\x00", b"UT\x05\x00\x03\x00\x00\x00\x00", b"UT\x01\x00\x01", b"ux\x00\x00",
          b"ux\x0b\x00\x01\x04\xe8\x03\x00\x00\x04\xe8\x03\x00\x00", b"\x0a\x00\x00\x00",
          b"\x1e\xa1\x00\x00", b"\x1e\xa1\x02\x00\x04\x00", b"uc\x01\x00\x01", b"\x01\x00\x00\x00",
          b"\x01\x00\x08\x00" + b"\x00" * 8, b"up\x05\x00\x01\x00\x00\x00\x00",
          b"\x99\x99\x00\x00", b"\xff\xff\x02\x00ab", b"\x01\x99\x07\x00\x02\x00AE\x03\x08\x00",
          b"UT", b"U"]  # fmt: skip


def directory(data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """The central directory's start and each record's (start, end), as the end record says."""
    _, _, _, _, _, size, start, _ = END.unpack_from(data, len(data) - END.size)
    records, at = [], start
    end = min(start + size, len(data) - END.size)
    while at + CENTRAL_FIXED <= end and data.startswith(b"PK\x01\x02", at):
        lengths = struct.unpack_from("<3H", data, at + 28)
        records.append((at, at + CENTRAL_FIXED + sum(lengths)))
        at = records[-1][1]
    return start, records


def with_records(data: bytes, start: int, records: list[bytes], **end: int) -> bytes:
    """The zip with its central directory made of `records` and its end record's counts and
    sizes following them (unless given)."""
    names = ("signature", "disk", "directory_disk", "counted", "total", "size", "offset", "comment")
    fields = dict(zip(names, END.unpack_from(data, len(data) - END.size), strict=True))
    body = b"".join(records)
    fields.update(counted=len(records), total=len(records), size=len(body), offset=start)
    fields.update(end)
    return data[:start] + body + END.pack(*fields.values())


def record_named(records: list[bytes], rng: random.Random) -> int:
    wanted = [i for i, r in enumerate(records) if r[CENTRAL_FIXED:].startswith(tuple(NAMES))]
    return rng.choice(wanted or range(len(records)))


def mutate_zip(data: bytes, rng: random.Random) -> bytes:
    """The zip's own records changed: the end record's counts, disks, sizes and comment; an
    entry's flags, method, version, CRC, sizes, offset, name (case, "\\", NUL, bytes past
    ASCII with or without the UTF-8 flag), extra fields and comment; an entry named twice,
    dropped or moved; a local header's flags, method and lengths; bytes edited at random."""
    start, spans = directory(data)
    records = [data[a:b] for a, b in spans]
    how = rng.randrange(14) if records else 13
    if not data.startswith(b"PK\x05\x06", len(data) - END.size):
        how = 13
    if how == 0:  # the end record's fields
        field = rng.choice(["disk", "directory_disk", "counted", "total", "size", "offset"])
        value = {"size": len(b"".join(records)), "offset": start}.get(field, len(records))
        value = max(0, value + rng.choice([-46, -1, 1, 46, 1 << 15])) if rng.random() < 0.8 else 0
        return with_records(data, start, records, **{field: min(value, 0xFFFF if field in (
            "disk", "directory_disk", "counted", "total") else 0xFFFFFFFF)})  # fmt: skip
    if how == 1:  # an archive comment, its length true or not
        comment = rng.choice([b"", b"note", b"PK\x05\x06", data[-END.size :]])
        out = with_records(
            data, start, records, comment=max(len(comment) + rng.choice([0, 0, -1, 1]), 0)
        )
        return out + comment
    if how >= 12:
        if how == 12:  # cut short
            return data[: rng.randrange(min(start, len(data) - 1), len(data))]
        out = bytearray(data)  # bytes edited anywhere in the directory and the end record
        for _ in range(rng.choice((1, 1, 2, 3))):
            at = rng.randrange(min(start, len(out) - 1), len(out))
            out[at] = rng.randrange(256)
        return bytes(out)
    i = record_named(records, rng)
    record = bytearray(records[i])
    name_length = struct.unpack_from("<H", record, 28)[0]
    name = bytes(record[CENTRAL_FIXED : CENTRAL_FIXED + name_length])
    if how == 2:  # flags
        bits = struct.unpack_from("<H", record, 8)[0] ^ rng.choice([0x1, 0x8, 0x20, 0x40, 0x800,
                                                                    0x2000, 0x4])  # fmt: skip
        struct.pack_into("<H", record, 8, bits)
    elif how == 3:  # method and version
        if rng.random() < 0.5:
            struct.pack_into("<H", record, 10, rng.choice([0, 1, 9, 12, 14, 93, 99]))
        else:
            record[6] = rng.choice([10, 20, 45, 63, 64, 255])
    elif how == 4:  # CRC and sizes
        at = rng.choice([16, 20, 24])
        value = struct.unpack_from("<L", record, at)[0]
        new = rng.choice([value ^ 1, value + 1, max(value - 1, 0), 0, value * 200, 0xFFFFFFFF])
        struct.pack_into("<L", record, at, min(new, 0xFFFFFFFF))
    elif how == 5:  # the local header's offset
        value = struct.unpack_from("<L", record, 42)[0]
        other = rng.choice(spans)
        offsets = [struct.unpack_from("<L", data, a + 42)[0] for a, _ in spans]
        new = rng.choice([value + 1, max(value - 1, 0), rng.choice(offsets), other[0], 0])
        struct.pack_into("<L", record, 42, new)
    elif how == 6:  # the name, its length kept
        spelled = rng.choice([
            name.upper(), name.replace(b"/", b"\\"), name[:-1] + b"\0",
            name.replace(b"sheet", b"sh\xe9et"), name.replace(b"sheet", b"sh\xc3\xa9t"),
            name.replace(b"xl/", b"XL/"), name.replace(b".xml", b".XML"),
        ])  # fmt: skip
        record[CENTRAL_FIXED : CENTRAL_FIXED + name_length] = spelled[:name_length].ljust(
            name_length, b"_"
        )
    elif how == 7:  # an extra field or a comment added
        extra = rng.choice(EXTRAS) if rng.random() < 0.8 else b""
        comment = b"" if extra else b"c"
        body = bytes(record[:CENTRAL_FIXED]) + name + extra + comment
        record = bytearray(body)
        struct.pack_into("<2H", record, 30, len(extra), len(comment))
    elif how == 8:  # an entry named twice: the copy pointing at another part's bytes
        copy = bytearray(records[record_named(records, rng)])
        copy[:CENTRAL_FIXED] = record[:CENTRAL_FIXED] if rng.random() < 0.5 else copy[:46]
        struct.pack_into("<3H", copy, 28, name_length, 0, 0)
        copy = copy[:CENTRAL_FIXED] + name
        if rng.random() < 0.3:
            copy = copy[:CENTRAL_FIXED] + name.upper()
        records.insert(rng.choice([i, i + 1, len(records)]), bytes(copy))
        return with_records(data, start, records)
    elif how == 9:  # an entry dropped or moved
        moved = records.pop(i)
        if rng.random() < 0.5:
            records.insert(rng.randrange(len(records) + 1), moved)
        return with_records(data, start, records)
    elif how == 10:  # the local header: flags, method, lengths, signature
        local = struct.unpack_from("<L", record, 42)[0]
        out = bytearray(data)
        at = local + rng.choice([4, 6, 8, 26, 28, 0])
        if local + 30 <= len(out):
            out[at] = rng.choice([0, 1, 8, 9, 0xFF, out[at] ^ 1, out[at] + 1 & 0xFF])
        return bytes(out)
    elif how == 11:  # bytes between the parts and the directory, the offset told or not
        gap = rng.choice([b"\0" * 4, b"PK\x01\x02", b"PK\x05\x06" + b"\0" * 18, b"junk" * 10])
        told = rng.random() < 0.5
        return with_records(data[:start] + gap, start + len(gap), records,
                            **({} if told else {"offset": start}))  # fmt: skip
    records[i] = bytes(record)
    return with_records(data, start, records)


def test_returns_with_damaged_zips_read_alike(bases, standard, shipped_standard, monkeypatch):
    """The zip around the parts changed (mutate_zip), after a part's change now and then:
    identical results both ways, or the same refusal; every outcome reached."""
    checker = Checker([standard, shipped_standard])
    seen = {"quick": 0, "calamine": 0, "refused": 0}
    for name in ("built", "filled", "shared", "shipped"):
        for seed in range(CASES):
            rng = random.Random(f"zip-{name}-{seed}")
            data = bases[name]
            if rng.random() < 0.2:
                data = mutate(data, rng)
            for _ in range(rng.choice((1, 1, 1, 2))):
                data = mutate_zip(data, rng)
            try:
                used = compared(data, monkeypatch, checker if seed % 5 == 0 else None)
            except AssertionError as error:
                raise AssertionError(f"{name} zip seed {seed}: read otherwise") from error
            outcome = read_workbook(data) if not used else None
            if used:
                seen["quick"] += 1
            elif isinstance(outcome, RawWorkbook):
                seen["calamine"] += 1
            else:
                seen["refused"] += 1
    assert all(count > CASES // 20 for count in seen.values()), seen


# --- the one-pass check of a whole part -----------------------------------------------------


def two_checks(xml: bytes, start: int) -> bool:
    """The verdict of the regex of plain tags and of expat without handlers."""
    try:
        sheetxml._plain(xml, start, len(xml))
        sheetxml._balanced(xml, start)
    except sheetxml.Unusual:
        return False
    return True


def one_pass(xml: bytes, start: int) -> bool:
    try:
        sheetxml._plain_document(xml, start)
    except sheetxml.Unusual:
        return False
    return True


# what the one pass decides without the regex, spelled where it decides otherwise (a name, a
# value, a text) and hidden where only the regex or a handler sees it
SHAPES = [b"'", b">", b'"', b":", b"<", b"&", b"\xe5\xad\x97", b"\xff", b"<:a/>", b"</:a>",
          b'<a :b="1"/>', b'<a\n:b="1"/>', b"<\xe5\xad\x97/>", b'<a\xe5\xad\x97 b="1"/>',
          b'<a b\xe5\xad\x97="1"/>', b'<a b="\xe5\xad\x97"/>', b'<a b="x>y"/>', b"<a b='1'/>",
          b'<a b="1"c="2"/>', b"<!-- c -->", b"<?pi x?>", b"<![CDATA[x]]>", b"&#65;", b"&#0;",
          b"&#00000065;", b"&#x1F600;", b"&bogus;", b"&amp;", b"]]>", b"</a>", b"<a>", b"< a/>",
          b"<a/ >", b"<a b = \"1\" />", b'<a b="1"\x0c/>', b"\x00", b"\r\n", b"<x:xf/>",
          b'<a b="\xe5\xad\x97" c\xe5\xad\x97="1"/>', b"\xe5\xad\x97>", b"<a>\xe5\xad\x97</a>"]  # fmt: skip
ONE_PASS_NAMED = {
    "a name past ASCII": (b'<a\xe5\xad\x97 b="1"/>', False),
    "an attribute's name past ASCII": (b'<a b\xe5\xad\x97="1"/>', False),
    "a value past ASCII": (b'<a b="\xe5\xad\x97"/>', True),
    "a text past ASCII": (b"<a>\xe5\xad\x97</a>", True),
    "a name starting with a colon": (b"<:a/>", False),
    "an attribute starting with a colon": (b'<a :b="1"/>', False),
    "a colon in a value and a text": (b'<a b=" :x"> :y</a>', True),
    "a > in a value": (b'<a b=">"/>', False),
    "a > in a text": (b"<a>x > y</a>", True),
    "a comment": (b"<!-- a --><a/>", False),
    "an instruction": (b"<?a b?>", False),
    "a CDATA section": (b"<a><![CDATA[x]]></a>", False),
    "a single-quoted value": (b"<a b='1'/>", False),
    "a character reference with eight digits": (b"<a>&#00000065;</a>", False),
    "a character reference": (b"<a>&#65;</a>", True),
}


def shaped(xml: bytes, rng: random.Random) -> bytes:
    buf = bytearray(xml)
    for _ in range(rng.choice((1, 1, 2))):
        at = rng.randrange(len(buf) or 1)
        buf[at : at + rng.choice((0, 0, 1, 3))] = rng.choice(SHAPES)
    return bytes(buf)


@pytest.mark.parametrize("name", sorted(ONE_PASS_NAMED))
def test_the_one_pass_check_decides_shapes_as_the_two_checks(bases, name):
    new, verdict = ONE_PASS_NAMED[name]
    styles = dict(parts_of(bases["filled"]))[STYLES]
    xml = styles.replace(b"</styleSheet>", new + b"</styleSheet>")
    start = sheetxml._root(xml, b"styleSheet")
    assert one_pass(xml, start) is two_checks(xml, start) is verdict


def test_the_one_pass_check_of_a_part_gives_the_two_checks_verdict(bases):
    """Parts mutated where the one pass and the regex might disagree: the same verdict, and
    both verdicts reached (each part's usual spelling goes the one pass's quick way)."""
    roots = {STYLES: b"styleSheet", WORKBOOK: b"workbook", RELS: b"Relationships",
             PACKAGE_RELS: b"Relationships"}  # fmt: skip
    verdicts = {True: 0, False: 0}
    for base in ("filled", "shipped"):
        parts = dict(parts_of(bases[base]))
        for part, root in roots.items():
            for seed in range(max(CASES, 200)):
                rng = random.Random(f"one-pass-{base}-{part}-{seed}")
                xml = parts[part]
                how = rng.random()
                if how < 0.6:
                    xml = shaped(xml, rng)
                elif how < 0.75:
                    xml = mutate_bytes(xml, rng)
                elif part == STYLES:
                    xml = mutate_styles(xml, rng)
                elif part == WORKBOOK:
                    xml = mutate_workbook(xml, rng)
                else:
                    xml = mutate_whole(xml, rng)
                try:
                    start = sheetxml._root(xml, root)
                except sheetxml.Unusual:
                    continue
                verdict = two_checks(xml, start)
                assert one_pass(xml, start) is verdict, (base, part, seed)
                verdicts[verdict] += 1
    assert min(verdicts.values()) > 100, verdicts


def around_verdict(xml: bytes, one: bool) -> bool | None:
    """sheetData's surroundings judged by the one pass (sheetxml._around) or by the three
    checks it stands for; None where `sheet` finds no root or sheetData to judge around."""
    try:
        root = sheetxml._root(xml, b"worksheet")
    except sheetxml.Unusual:
        return None
    opening, end = xml.find(b"<sheetData>"), xml.rfind(b"</sheetData>")
    if opening < 0 or end < opening:
        return None
    after = end + len(b"</sheetData>")
    merges = xml.find(b"<mergeCells", after)
    stop = merges if merges >= 0 else len(xml)
    try:
        if one:
            sheetxml._around(xml, root, opening, after, stop)
        else:
            sheetxml._plain(xml, root, opening)
            sheetxml._plain(xml, after, stop)
            sheetxml._closes_opened(xml, root, opening, after, stop)
    except sheetxml.Unusual:
        return False
    return True


# cut short where the one pass stops (before the merges, at the part's end): expat has not
# judged such a token when its parse ends
CUT_SHORT = [b"<a", b"</a", b'<a b="1', b'<a b="', b"&amp", b"&", b"\xe5", b"\xe5\xad", b"<!-- c",
             b"<?pi", b"<![CDATA[x", b"x", b"\r", b" ", b"<a>", b"</worksheet>", b"<a/>x"]  # fmt: skip


@pytest.mark.parametrize("cut", CUT_SHORT)
@pytest.mark.parametrize("sheet", [COVER, CHECKLIST, MANIFEST])
def test_a_token_cut_short_where_the_one_pass_stops_gets_the_three_checks_verdict(
    bases, sheet, cut
):
    xml = dict(parts_of(bases["built"]))[sheet]
    at = xml.find(b"<mergeCells")
    xml = xml[:at] + cut + xml[at:] if at >= 0 else xml + cut
    assert around_verdict(xml, True) is around_verdict(xml, False) is not None


def test_sheet_data_s_surroundings_judged_in_one_pass_as_by_the_three_checks(bases):
    """Sheets mutated before and after sheetData (the one pass's pre-checks, its handlers,
    tokens cut short where its parse stops): the same verdict as the three checks, and both
    verdicts reached."""
    verdicts = {True: 0, False: 0}
    for base in ("built", "filled", "shipped"):
        parts = dict(parts_of(bases[base]))
        for sheet in (COVER, CHECKLIST, MANIFEST):
            xml0 = parts[sheet]
            for seed in range(max(CASES, 150)):
                rng = random.Random(f"around-{base}-{sheet}-{seed}")
                xml = xml0
                how = rng.random()
                opening, after = xml.find(b"<sheetData>"), xml.rfind(b"</sheetData>") + 12
                if how < 0.7:  # a shape before or after sheetData, where the one pass reads
                    for _ in range(rng.choice((1, 1, 2))):
                        where = rng.random()
                        if where < 0.45:
                            at = rng.randrange(xml.find(b"<worksheet"), opening)
                        elif where < 0.8:
                            at = rng.randrange(after, len(xml) + 1)
                        else:  # where it stops
                            merges = xml.find(b"<mergeCells", after)
                            at = merges if merges >= 0 else len(xml)
                        shape = rng.choice(SHAPES + CUT_SHORT)
                        xml = xml[:at] + shape + xml[at + rng.choice((0, 0, 1)) :]
                elif how < 0.85:
                    xml = mutate_bytes(xml, rng)
                else:
                    xml = mutate_sheet(xml, rng)
                verdict = around_verdict(xml, False)
                if verdict is None:
                    continue
                assert around_verdict(xml, True) is verdict, (base, sheet, seed)
                verdicts[verdict] += 1
    assert min(verdicts.values()) > 100, verdicts


def strings_read(xml: bytes) -> list[str] | str:
    try:
        return sheetxml.shared_strings(xml)
    except (sheetxml.Unusual, UnicodeDecodeError) as error:
        return type(error).__name__


ITEM_SHAPES = [b" ", b"\t", b"\n", b"\r", b"\0", b"\x01", b"_x0041_", b"_", b"x", b"&amp;",
               b"<", b">", b"</t></si><si><t>", b'<t xml:space="preserve">', b"<si><t>",
               b'</t></si><si><t xml:space="preserve"> ', b"</t></si>", b"<t/>", b"\xe3\x80\x80",
               b"\xff", b"<si><t/></si>", b"x y" * 70, b"_y" * 20]  # fmt: skip


def test_the_usual_table_reads_as_item_by_item(bases, monkeypatch):
    """The whole-table reading of the usual shared strings gives what the item-by-item
    reading gives (or both decline): on tables mutated where one of its checks decides."""
    table = dict(parts_of(bases["shared"]))[STRINGS]
    table = table.replace(b"<si><t>", b'<si><t xml:space="preserve">', 2)
    for reference, plain in ((b"&amp;", b"+"), (b"&lt;", b"("), (b"&gt;", b")")):
        table = table.replace(reference, plain)  # references: read item by item
    table = re.sub(rb"(<t[^>]*>)[ \t\n]+|[ \t\n]+(</t>)", rb"\1\2", table)  # blanks: too
    quick = 0
    for seed in range(max(CASES, 300)):
        rng = random.Random(f"table-{seed}")
        xml = table
        for _ in range(rng.choice((1, 1, 2))):
            where = rng.random()
            if where < 0.4:  # anywhere in the items
                at = rng.randrange(xml.find(b"<si>"), len(xml) - 6)
            else:  # a text's start or end, where blanks count
                ends = [m.end() if where < 0.7 else m.start()
                        for m in re.finditer(rb"<t[^>]*>" if where < 0.7 else rb"</t>", xml)]  # fmt: skip
                at = rng.choice(ends)
            xml = xml[:at] + rng.choice(ITEM_SHAPES) + xml[at + rng.choice((0, 0, 1)) :]
        if rng.random() < 0.2:
            xml = mutate_strings(xml, rng)
        found = strings_read(xml)
        with monkeypatch.context() as patched:
            patched.setattr(sheetxml, "_usual_items", lambda inner: None)
            assert strings_read(xml) == found, seed
        quick += isinstance(found, list) and sheetxml._usual_items(
            xml[xml.find(b">", xml.find(b"<sst")) + 1 : xml.rfind(b"</sst>")]) is not None  # fmt: skip
    assert quick > 20, quick


def test_a_blank_at_an_item_s_end_is_found_however_many_blanks():
    """The usual table's blank check, blank by blank while they are few and by searches past
    that: an item starting or ending with a blank calamine trims, and no other, is found."""
    found = {True: 0, False: 0}
    for seed in range(max(CASES, 2000)):
        rng = random.Random(f"blanks-{seed}")
        alphabet = rng.choice((b"ab", b"ab ", b"a \t\n\x01", b" "))
        items = [bytes(rng.choice(alphabet) for _ in range(rng.choice((0, 1, 3, 40))))
                 for _ in range(rng.choice((1, 2, 30)))]  # fmt: skip
        expected = any(item != item.strip(b" \t\n") for item in items)
        assert sheetxml._blank_at_an_end(b"\0".join(items)) is expected, seed
        found[expected] += 1
    assert min(found.values()) > 100, found
    inside = b"\0".join([b"a b\tc\nd"] * 30)  # 90 blanks, none at an end: past the first 64
    for last, expected in ((b"x", False), (b"x ", True), (b"\tx", True), (b"x\ny", False)):
        assert sheetxml._blank_at_an_end(inside + b"\0" + last) is expected, last


def relationships_read(xml: bytes) -> list[dict[bytes, bytes]] | str:
    try:
        return sheetxml.relationships(xml)
    except (sheetxml.Unusual, UnicodeDecodeError) as error:
        return type(error).__name__


REL_SHAPES = [b" ", b"  ", b"\n", b'Id="rIdX" ', b'TargetMode="External" ', b"/", b'"', b"s",
              b'<Relationship Id="a" Type="b" Target="c"/>', b"<Relationships/>", b"<RelationshipX/>",
              b'<Relationship Target="c" Id="a" Type="b"/>', b"x"]  # fmt: skip


def test_the_usual_relationships_read_as_any_spelling(bases, monkeypatch):
    """Relationships spelled as Excel spells them are read by one search; others by each
    tag's attributes: the same list either way (or both decline)."""
    verdicts = {True: 0, False: 0}
    usual = 0
    for base, part in itertools.product(("built", "filled"), (RELS, PACKAGE_RELS)):
        xml0 = dict(parts_of(bases[base]))[part]  # built: Excel's order; filled: openpyxl's
        for seed in range(max(CASES, 200)):
            rng = random.Random(f"rels-{base}-{part}-{seed}")
            xml = xml0
            for _ in range(rng.choice((1, 2))):
                tags = [
                    m.start() + rng.choice((0, 13, 14)) for m in re.finditer(b"<Relationship ", xml)
                ]
                at = rng.choice(tags) if rng.random() < 0.8 else rng.randrange(len(xml))
                xml = xml[:at] + rng.choice(REL_SHAPES) + xml[at + rng.choice((0, 0, 1)) :]
            found = relationships_read(xml)
            with monkeypatch.context() as patched:
                patched.setattr(sheetxml, "_USUAL_RELATIONSHIP", re.compile(b"(x)(y)(z)^"))
                assert relationships_read(xml) == found, (part, seed)
            verdicts[isinstance(found, list)] += 1
            usual += isinstance(found, list) and len(
                sheetxml._USUAL_RELATIONSHIP.findall(xml)) == xml.count(b"<Relationship") - 1  # fmt: skip
    assert min(verdicts.values()) > 50 and usual > 50, (verdicts, usual)


REL_PART_SHAPES = [b" ", b"\n", b"\t", b"\r", b"\x0c", b"\x0b", b"\x01", b"\x7f", b"\xe5\xad\x97", b"\xff", b"'",
                   b'"', b"&", b"&amp;", b"&#65;", b"&#0;", b"<", b">", b":", b" :", b"x",
                   b"<!-- c -->", b"<?pi?>", b"<![CDATA[x]]>", b"<a/>", b"</a>", b"/",
                   b'<Relationship Id="a" Type="b" Target="c"/>', b"</Relationships>"]  # fmt: skip
REL_VALUE_SHAPES = [b"x", b" ", b":", b" :", b"/", b"=", b"?", b"#", b"~", b"\x7f", b"\x1f"]


def test_the_usual_relationships_part_is_judged_as_by_the_one_pass_check(bases, monkeypatch):
    """A relationships part spelled as Excel spells it is taken as plain and well-formed
    without the one-pass check: on parts mutated anywhere, the same reading or refusal as
    with every part asked of it, and both ways reached."""
    found = {"usual": 0, "read": 0, "refused": 0}
    for base, part in itertools.product(("built", "filled", "shipped"), (RELS, PACKAGE_RELS)):
        xml0 = dict(parts_of(bases[base]))[part]
        for seed in range(max(CASES, 200)):
            rng = random.Random(f"rels-part-{base}-{part}-{seed}")
            xml = xml0
            for _ in range(rng.choice((1, 1, 2))):
                shapes = REL_PART_SHAPES
                where = rng.random()
                if where < 0.6:  # in a value
                    at = rng.choice([m.end() for m in re.finditer(rb'="', xml)])
                    shapes = rng.choice((REL_PART_SHAPES, REL_VALUE_SHAPES))
                elif where < 0.7:  # after the root's end tag
                    at = len(xml)
                else:
                    at = rng.randrange(len(xml) + 1)
                xml = xml[:at] + rng.choice(shapes) + xml[at + rng.choice((0, 0, 1)) :]
            read_so = relationships_read(xml)
            with monkeypatch.context() as patched:
                patched.setattr(sheetxml, "_USUAL_RELATIONSHIPS", re.compile(b"(?!)"))
                assert relationships_read(xml) == read_so, (base, part, seed)
            try:
                start = sheetxml._root(xml, b"Relationships")
                found["usual"] += sheetxml._USUAL_RELATIONSHIPS.fullmatch(xml, start) is not None
            except sheetxml.Unusual:
                pass
            found["read" if isinstance(read_so, list) else "refused"] += 1
    assert min(found.values()) > 100, found


def root_found(xml: bytes, name: bytes) -> int | None:
    try:
        return sheetxml._root(xml, name)
    except sheetxml.Unusual:
        return None


def test_excel_s_prolog_finds_the_root_as_the_pattern_does():
    """The root found past Excel's declaration without the pattern: where the pattern finds
    it, and nowhere it does not."""
    declaration = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    for ending in (b"", b"\n", b"\r\n", b"\n\n", b" ", b"\r", b"\t\n"):
        for tag in (b"<sst ", b"<sst>", b"<sst/>", b"<sstx ", b"<ss ", b"<x:sst ", b"<sst\f",
                    b"<sst\v", b"<sst", b"<sst.", b"< sst ", b"<!-- -->"):  # fmt: skip
            xml = declaration + ending + tag + b"</sst>"
            found = sheetxml._ROOT.match(xml)
            expected = found.start(1) - 1 if found and found.group(1) == b"sst" else None
            assert root_found(xml, b"sst") == expected, xml


def test_the_doctype_check_s_usual_prolog_with_excel_s_declaration_spelled_out():
    """_USUAL_PROLOG with Excel's declaration as its first way: the same heads pass the
    DOCTYPE check's quick look as with the general pattern alone."""
    general = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^<>]*\?>\s*)?<[A-Za-z_]")
    declaration = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    passed = 0
    for lead in (b"", b"\xef\xbb\xbf", b" ", b"x"):
        for spelled in (declaration, declaration.replace(b"UTF-8", b"utf-8"), declaration[:-2],
                        b"<?xml?>", b'<?xml version="1.0"?>', declaration + b"?>", b""):  # fmt: skip
            for ending in (b"", b"\n", b"\r\n", b"\n\n", b" ", b"\t\n", b"\n\r"):
                for tag in (b"<sst ", b"<_a/>", b"<Z", b"<1/>", b"<:a/>", b"<!DOCTYPE x>",
                            b"<!-- -->", b"<?x?>", b"< a", b"<", b"", b"<\xc3\xa9/>"):  # fmt: skip
                    head = lead + spelled + ending + tag
                    for end in (read.XML_HEAD_CHUNK, len(head) - 1):
                        found = read._USUAL_PROLOG.match(head, 0, end) is not None
                        assert found is (general.match(head, 0, end) is not None), head
                        passed += found
    assert passed > 100, passed
