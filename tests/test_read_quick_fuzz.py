"""The quick xlsx reading (workbook/sheetxml.py) against calamine's path: shapes that once
read otherwise the quick way, each read both ways (tests/test_read_quick.py's `both`) with
identical results, values and types, diagnostics and score (each is now left to calamine,
or read as calamine reads it).

Bases: returns as build writes them (xlsxwriter: shared strings), as openpyxl fills them
(inline strings), the same with the strings moved to a shared table, and a return of the
shipped standard.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable

import pytest
from returns import fill, issue, mini_standard
from test_read_quick import both

from audit_xls.grading.validate import Checker
from audit_xls.workbook.read import RawWorkbook, read_workbook

COVER = "xl/worksheets/sheet1.xml"
CHECKLIST = "xl/worksheets/sheet2.xml"
MANIFEST = "xl/worksheets/sheet5.xml"
STRINGS = "xl/sharedStrings.xml"
STYLES = "xl/styles.xml"
WORKBOOK = "xl/workbook.xml"
NS_X = b' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SECONDS_PER_FILE = 5.0


def parts_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def zipped(parts: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
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


def cell(ref: str, xml: bytes) -> Callable[[bytes], bytes]:
    def change(sheet: bytes) -> bytes:
        pattern = rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)'
        new, count = re.subn(pattern, xml.replace(b"\\", b"\\\\"), sheet, count=1)
        assert count == 1, ref
        return new

    return change


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
        CHECKLIST, cell("J4", b'<c r="J4" t="inlineStr"><is><t>&#32;a</t></is></c>'), False),
    "inline text, a line end by reference last": (
        CHECKLIST, cell("J4", b'<c r="J4" t="inlineStr"><is><t>a&#10;</t></is></c>'), False),
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
}  # fmt: skip


# read the quick way now, as calamine reads them
READ_QUICKLY = {"a dxf's numFmt redefining the date format", "shared text with a NUL"}


def last_string_in_j4(data: bytes) -> bytes:
    count = dict(parts_of(data))[STRINGS].count(b"<si>")
    return edited(data, CHECKLIST, cell("J4", b'<c r="J4" t="s"><v>%d</v></c>' % (count - 1)))


@pytest.mark.parametrize("name", sorted(FOUND))
def test_what_broke_the_quick_path_is_left_to_calamine(
    bases, standard, shipped_standard, monkeypatch, name
):
    part, change, point = FOUND[name]
    base = bases["shared" if part == STRINGS else "filled" if part == STYLES else "built"]
    if part == WORKBOOK:
        base = bases["built"]
    data = edited(base, part, change)
    assert data != base
    if point:
        data = last_string_in_j4(data)
    checker = Checker([standard, shipped_standard])
    assert compared(data, monkeypatch, checker) is (name in READ_QUICKLY)
