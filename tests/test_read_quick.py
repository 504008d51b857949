"""The usual xlsx read by us (workbook/sheetxml.py) gives what the calamine path gives.

Each workbook goes through read_workbook twice: as it runs, and with the quick path turned
off (calamine reads it, after the safety scans). Results must be identical, value types
included (1.0 is not 1, a date is not a datetime), and the usual files must take the quick
path (or it would prove nothing).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import fields
from datetime import date
from typing import Any

import pytest
from returns import fill, issue, mini_standard

from audit_xls.workbook import read, sheetxml
from audit_xls.workbook.read import RawWorkbook, ReadFailure, read_workbook

CHECKLIST_PART = "xl/worksheets/sheet2.xml"
COVER_PART = "xl/worksheets/sheet1.xml"


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


@pytest.fixture(scope="module")
def built(standard) -> bytes:
    """As build writes it (xlsxwriter: shared strings, the usual spelling), unanswered."""
    return issue(standard)


@pytest.fixture(scope="module")
def filled(standard) -> bytes:
    """Answered by openpyxl (inline strings, no shared strings table)."""
    answers = {"1.1.01": ("不符合", 2, "袖口污渍 & <破损>"), "1.1.02": ("符合", None)}
    return fill(issue(standard), standard, answers, default=("不适用", None))


def typed(value: Any) -> Any:
    """A value with its type spelled out, so 1.0 == 1 and date == datetime do not pass."""
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [typed(v) for v in value]
        return (type(value).__name__, sorted(items, key=repr) if isinstance(value, set) else items)
    return (type(value).__name__, repr(value))


def described(result: RawWorkbook | ReadFailure) -> Any:
    if isinstance(result, ReadFailure):
        return ("failure", typed({f.name: getattr(result, f.name) for f in fields(result)}))
    out = {}
    for f in fields(result):
        value = getattr(result, f.name)
        out[f.name] = value.name if f.name == "template" else typed(value)
    return ("raw", out)


def both(data: bytes, monkeypatch) -> tuple[Any, Any, bool]:
    """(as read, as calamine's path reads it, whether the quick path read it)."""
    used = []
    usual = read._read_usual

    def spy(parts, digest):
        found = usual(parts, digest)
        used.append(found is not None)
        return found

    with monkeypatch.context() as patched:
        patched.setattr(read, "_read_usual", spy)
        quick = read_workbook(data)
    with monkeypatch.context() as patched:
        patched.setattr(read, "_read_usual", lambda parts, digest: None)
        slow = read_workbook(data)
    return described(quick), described(slow), any(used)


def edit(data: bytes, part: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == part:
                body = change(body)
            dst.writestr(info.filename, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def set_cell(ref: str, cell: bytes):
    """Replace the cell `ref` of a sheet (it must exist) by `cell`."""

    def change(xml: bytes) -> bytes:
        pattern = rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)'
        new, count = re.subn(pattern, cell.replace(b"\\", b"\\\\"), xml, count=1)
        assert count == 1, ref
        return new

    return change


def test_the_usual_return_takes_the_quick_path_with_the_same_result(built, filled, monkeypatch):
    for data in (built, filled):
        quick, slow, used = both(data, monkeypatch)
        assert used
        assert quick == slow
    raw = read_workbook(filled)
    assert isinstance(raw, RawWorkbook)
    assert raw.cover["inspection_date"] == date(2026, 11, 12)


# Spellings read the quick way (used=True) and others left to calamine (used=False); either
# way the result must be the same.
ODD_CELLS = {
    "number exponent": ("H4", b'<c r="H4" s="13"><v>1.5E0</v></c>', True),
    "number spaced": ("H4", b'<c r="H4"><v> 2 </v></c>', False),
    "number plus": ("H4", b'<c r="H4"><v>+2</v></c>', False),
    "number nan": ("H4", b'<c r="H4"><v>NaN</v></c>', False),
    "number text": ("H4", b'<c r="H4"><v>abc</v></c>', False),
    "t=n": ("H4", b'<c r="H4" t="n"><v>3</v></c>', True),
    "t=n empty": ("H4", b'<c r="H4" t="n"><v></v></c>', True),
    "t=n closed value": ("H4", b'<c r="H4" t="n"><v /></c>', True),
    "closed with a space": ("H4", b'<c r="H4" s="13" />', True),
    "str": ("G4", '<c r="G4" t="str"><f>"x"</f><v>符合</v></c>'.encode(), True),
    "str closed value": ("J4", b'<c r="J4" t="str"><f>"x"</f><v/></c>', False),
    "str empty": ("J4", b'<c r="J4" t="str"><v></v></c>', True),
    "str spaced": ("J4", b'<c r="J4" t="str"><v>  a b  </v></c>', True),
    "str entities": (
        "J4",
        b'<c r="J4" t="str"><v>a&amp;b&lt;&#26816;&#x68C0;&quot;</v></c>',
        True,
    ),
    "str bad entity": ("J4", b'<c r="J4" t="str"><v>a&nbsp;b</v></c>', False),
    "str escape": ("J4", b'<c r="J4" t="str"><v>_x0031_</v></c>', False),
    "str line ends": ("J4", b'<c r="J4" t="str"><v>a\r\nb</v></c>', False),
    "bool": ("J4", b'<c r="J4" t="b"><v>1</v></c>', True),
    "bool false": ("H4", b'<c r="H4" t="b"><v>0</v></c>', True),
    "bool odd": ("H4", b'<c r="H4" t="b"><v>true</v></c>', False),
    "error": ("H4", b'<c r="H4" t="e"><v>#N/A</v></c>', True),
    "error formula": ("G4", b'<c r="G4" t="e"><f>1/0</f><v>#DIV/0!</v></c>', True),
    "error empty": ("H4", b'<c r="H4" t="e"><v></v></c>', True),
    "error no value": ("H4", b'<c r="H4" t="e"><f>1/0</f></c>', True),
    "inline": ("G4", '<c r="G4" t="inlineStr"><is><t>符合</t></is></c>'.encode(), True),
    "inline preserve": (
        "J4",
        b'<c r="J4" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>',
        True,
    ),
    "inline trimmed": ("J4", b'<c r="J4" t="inlineStr"><is><t> a </t></is></c>', False),
    "inline rich": (
        "J4",
        b'<c r="J4" t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c>',
        False,
    ),
    "inline empty": ("J4", b'<c r="J4" t="inlineStr"><is><t></t></is></c>', True),
    "inline cdata": ("J4", b'<c r="J4" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c>', False),
    "shared index padded": ("J4", b'<c r="J4" t="s"><v>00</v></c>', True),
    "shared index spaced": ("J4", b'<c r="J4" t="s"><v> 0 </v></c>', False),
    "shared index past the table": ("J4", b'<c r="J4" t="s"><v>99999</v></c>', False),
    "formula shared": ("G4", b'<c r="G4"><f t="shared" si="0"/><v>1</v></c>', True),
    "formula attributes": ("H4", b'<c r="H4"><f aca="false">1+1</f><v>2</v></c>', True),
    "formula no value": ("H4", b'<c r="H4"><f>1+1</f></c>', True),
    "prefixed": ("G4", b'<x:c r="G4" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c>', False),
    "no r": ("G4", b'<c t="inlineStr"><is><t>a</t></is></c>', False),
    "lower-case ref": ("G4", b'<c r="g4" t="inlineStr"><is><t>a</t></is></c>', False),
    "attributes reordered": ("G4", b'<c t="inlineStr" r="G4"><is><t>a</t></is></c>', False),
    "single quotes": ("G4", b"<c r='G4' t='inlineStr'><is><t>a</t></is></c>", False),
    "extra attribute": ("H4", b'<c r="H4" s="13" cm="1"><v>1</v></c>', False),
    "open and closed empty": ("H4", b'<c r="H4" s="13"></c>', False),
    "value before formula": ("H4", b'<c r="H4"><v>2</v><f>1+1</f></c>', False),
    "date style": ("H4", b'<c r="H4" s="DATE"><v>45000</v></c>', True),
    "date style, fraction": ("H4", b'<c r="H4" s="DATE"><v>45000.5</v></c>', False),
    "date style, leap-year bug": ("H4", b'<c r="H4" s="DATE"><v>60</v></c>', False),
    "date style, past 9999": ("H4", b'<c r="H4" s="DATE"><v>2958466</v></c>', False),
    "a far cell": ("G4", b'<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>', False),
    "a far empty cell": ("G4", b'<c r="XFD1048576"><f>1</f></c>', False),
    "a far cell, not too far": ("G4", b'<c r="Z30000" t="inlineStr"><is><t>x</t></is></c>', True),
    "duplicate, later wins": ("H4", b'<c r="H4"><v>2</v></c><c r="H4"><v>3</v></c>', True),
    "duplicate, empty later": ("H4", b'<c r="H4"><v>2</v></c><c r="H4"><v></v></c>', True),
    "out of order": ("H4", b'<c r="K4"><v>2</v></c><c r="H4"><v>3</v></c>', True),
    # the shared string cells are read in bulk, the others one by one: a cell given in both
    # shapes is read in order
    "duplicate, shared string later": (
        "H4",
        b'<c r="H4"><v>2</v></c><c r="H4" t="s"><v>0</v></c>',
        True,
    ),
    "duplicate, shared string first": (
        "H4",
        b'<c r="H4" t="s"><v>0</v></c><c r="H4" t="inlineStr"><is><t>a</t></is></c>',
        True,
    ),
    "duplicate, shared strings": (
        "H4",
        b'<c r="H4" t="s"><v>0</v></c><c r="H4" s="13" t="s"><v>1</v></c>',
        True,
    ),
    "duplicate, shared string then no value": (
        "H4",
        b'<c r="H4" t="s"><v>0</v></c><c r="H4"><f>1</f></c><c r="H4" t="e"><f>1/0</f></c>',
        True,
    ),
    "duplicate, inline strings": (
        "G4",
        b'<c r="G4" t="inlineStr"><is><t>a</t></is></c><c r="G4" t="inlineStr"><is><t>b</t></is></c>',
        True,
    ),
    "duplicate, inline then shared string": (
        "G4",
        b'<c r="G4" t="inlineStr"><is><t>a</t></is></c><c r="G4" t="s"><v>0</v></c>',
        True,
    ),
    "duplicate, value then formula without it": (
        "H4",
        b'<c r="H4"><v>2</v></c><c r="H4"><f>1+1</f><v></v></c>',
        True,
    ),
    "formula, empty value": ("H4", b'<c r="H4" s="13"><f>1+1</f><v></v></c>', True),
    "formula, empty value, typed": ("J4", b'<c r="J4" t="str"><f>1</f><v></v></c>', True),
    "inline trailing space": ("J4", b'<c r="J4" t="inlineStr"><is><t>a </t></is></c>', False),
    "duplicate, closing itself later": ("H4", b'<c r="H4" t="s"><v>0</v></c><c r="H4"/>', True),
    "shared string closing itself": ("H4", b'<c r="H4" s="13" t="s"/>', True),
    "closing itself, a type calamine does not know": ("H4", b'<c r="H4" t="x"/>', False),
    "closing itself, a date type": ("H4", b'<c r="H4" t="d"/>', False),
    "inline entities": ("J4", b'<c r="J4" t="inlineStr"><is><t>a&amp;b&#26816;</t></is></c>', True),
    "inline escape": ("J4", b'<c r="J4" t="inlineStr"><is><t>_x0031_</t></is></c>', False),
    "inline line end": ("J4", b'<c r="J4" t="inlineStr"><is><t>a\r\nb</t></is></c>', False),
    "inline tab first": ("J4", b'<c r="J4" t="inlineStr"><is><t>\ta</t></is></c>', False),
    "inline newline last": ("J4", b'<c r="J4" t="inlineStr"><is><t>a\n</t></is></c>', False),
    "inline space inside": ("J4", b'<c r="J4" t="inlineStr"><is><t>a b</t></is></c>', True),
    "inline NUL": ("J4", b'<c r="J4" t="inlineStr"><is><t>a\x00b</t></is></c>', True),
    "in another row": ("H4", b'<c r="H40"><v>3</v></c>', True),
    "a column past XFD": ("G4", b'<c r="ZZZ4" t="inlineStr"><is><t>x</t></is></c>', False),
    "a row past 1048576": ("G4", b'<c r="A1048577" t="inlineStr"><is><t>x</t></is></c>', False),
}


def date_style(data: bytes) -> bytes:
    """The style of the cover's date cell (a date format) in this workbook."""
    found = re.search(rb'<c r="B9" s="(\d+)"', part(data, COVER_PART))
    assert found
    return found.group(1)


@pytest.mark.parametrize("name", sorted(ODD_CELLS))
@pytest.mark.parametrize("source", ["built", "filled"])
def test_odd_cells_read_alike(request, monkeypatch, source, name):
    data = request.getfixturevalue(source)
    ref, cell, quick_expected = ODD_CELLS[name]
    if b't="s"><v>' in cell and source == "filled":
        quick_expected = False  # no shared strings table: index 0 is past it
    cell = cell.replace(b's="DATE"', b's="' + date_style(data) + b'"')
    data = edit(data, CHECKLIST_PART, set_cell(ref, cell))
    quick, slow, used = both(data, monkeypatch)
    assert quick == slow
    assert used is quick_expected


def shared_strings(data: bytes, change) -> bytes:
    return edit(data, "xl/sharedStrings.xml", change)


ODD_TABLES = {
    "rich text": (
        lambda x: x.replace(b"<si><t>", b"<si><r><t>a</t></r><r><t>", 1).replace(
            b"</t></si>", b"</t></r></si>", 1
        ),
        False,
    ),
    "phonetic": (
        lambda x: x.replace(b"</t></si>", b'</t><rPh sb="0" eb="1"><t>P</t></rPh></si>', 1),
        False,
    ),
    "entity": (lambda x: x.replace(b"<si><t>", b"<si><t>&amp;&#26816;", 1), True),
    "escape": (lambda x: x.replace(b"<si><t>", b"<si><t>_x0031_", 1), False),
    "leading space": (lambda x: x.replace(b"<si><t>", b"<si><t> ", 1), False),
    "preserved space": (
        lambda x: x.replace(b"<si><t>", b'<si><t xml:space="preserve"> ', 1),
        True,
    ),
    "empty item": (lambda x: x.replace(b"</sst>", b"<si><t/></si></sst>"), True),
    "line end": (lambda x: x.replace(b"<si><t>", b"<si><t>a\r\nb", 1), False),
    "prefixed": (lambda x: x.replace(b"<si>", b"<x:si>").replace(b"</si>", b"</x:si>"), False),
}


@pytest.mark.parametrize("name", sorted(ODD_TABLES))
def test_odd_shared_strings_read_alike(built, monkeypatch, name):
    change, quick_expected = ODD_TABLES[name]
    data = shared_strings(built, change)
    assert data != built
    quick, slow, used = both(data, monkeypatch)
    assert quick == slow
    assert used is quick_expected


def test_rows_without_numbers_and_prefixes_go_to_calamine(filled, monkeypatch):
    plain_rows = edit(filled, CHECKLIST_PART, lambda x: re.sub(rb'<row r="\d+"', b"<row", x))
    prefixed = edit(
        filled,
        CHECKLIST_PART,
        lambda x: (
            x.replace(b"<c ", b"<x:c ")
            .replace(b"</c>", b"</x:c>")
            .replace(
                b"<worksheet ",
                b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
                1,
            )
        ),
    )
    for data in (plain_rows, prefixed):
        quick, slow, used = both(data, monkeypatch)
        assert quick == slow
        assert not used


@pytest.mark.parametrize(
    ("attributes", "quick_expected"),
    [
        (b"".join(b' a%d="1"' % n for n in range(16)), True),
        (b"".join(b' a%d="1"' % n for n in range(17)), False),  # so many: left to calamine
        (b' x="\xc3\xa9"', False),  # past ASCII
        (b' x="\xff"', False),  # not UTF-8: calamine refuses the file
        (b" x='1'", False),
        (b' x="a>b"', False),
    ],
)
def test_row_attributes_read_alike(filled, monkeypatch, attributes, quick_expected):
    def respelled(xml: bytes) -> bytes:
        return re.sub(rb'<row r="5"[^>]*>', b'<row r="5"' + attributes + b">", xml, count=1)

    data = edit(filled, CHECKLIST_PART, respelled)
    quick, slow, used = both(data, monkeypatch)
    assert quick == slow
    assert used is quick_expected


# End tags calamine reads with no tag open: it fails the sheet ("close tag ... does not match
# any open tag") on one past the root's, reading to the merges or, in a sheet without them (the
# manifest), to the end; the quick path read these (the second row end tag in a row, an end tag
# before sheetData), so now declines every end tag around sheetData not closing what it opened
# and rows other than one after another.
UNOPENED_END_TAGS = {
    "a row end tag twice": (b'</row><row r="4"', b'</row></row><row r="4"'),
    "every row end tag twice": (b"</row>", b"</row></row>"),
    "a row end tag first": (b"<sheetData><row", b"<sheetData></row><row"),
    "a row closing itself, then a row end tag": (
        b'</row><row r="4"',
        b'</row><row r="3"/></row><row r="4"',
    ),
    "two rows closing themselves": (
        b'</row><row r="4"',
        b'</row><row r="3"/></row><row r="3"/></row><row r="4"',
    ),
    "an end tag before sheetData": (b"<sheetData>", b"</sheetFormatPr><sheetData>"),
    "two end tags before sheetData": (b"<sheetData>", b"</a></b><sheetData>"),
    "two end tags after sheetData": (b"</sheetData>", b"</sheetData></x></y>"),
    "an end tag before the root's": (b"</worksheet>", b"</x></worksheet>"),
}


@pytest.mark.parametrize("name", sorted(UNOPENED_END_TAGS))
@pytest.mark.parametrize("sheet", [COVER_PART, CHECKLIST_PART, "xl/worksheets/sheet5.xml"])
def test_end_tags_with_no_tag_open_read_alike(built, monkeypatch, sheet, name):
    old, new = UNOPENED_END_TAGS[name]
    data = edit(built, sheet, lambda xml: xml.replace(old, new, 1 if old != b"</row>" else -1))
    quick, slow, used = both(data, monkeypatch)
    assert quick == slow
    assert not used or (
        name == "an end tag before the root's" and sheet != "xl/worksheets/sheet5.xml"
    )


# sheetData's "<" left over once the tags read are counted: row end tags (alone, or taken with
# the next row's start tag) and anything else, traded one for another; every one declined
LEFT_OVER = {
    "a row end tag replaced by another tag": [(b'</row><row r="4"', b'<x/><row r="4"')],
    "the last row end tag replaced by another tag": [(b"</row></sheetData>", b"<x/></sheetData>")],
    "the last row end tag missing": [(b"</row></sheetData>", b"</sheetData>")],
    "a row end tag moved to another row": [
        (b'</row><row r="4"', b'<row r="4"'),
        (b'</row><row r="6"', b'</row></row><row r="6"'),
    ],
    "a row end tag taken for another tag": [
        (b'</row><row r="4"', b'<row r="4"'),
        (b'</row><row r="6"', b'</row><x/><row r="6"'),
    ],
    "a row start tag not read after a row end tag": [(b'</row><row r="4"', b'</row><row r="0"')],
    "another tag for the first row's start tag": [(b'<sheetData><row r="1"', b"<sheetData><x/")],
}


@pytest.mark.parametrize("name", sorted(LEFT_OVER))
def test_tags_left_over_in_sheet_data_read_alike(built, monkeypatch, name):
    def changed(xml: bytes) -> bytes:
        for old, new in LEFT_OVER[name]:
            assert old in xml, old
            xml = xml.replace(old, new, 1)
        return xml

    data = edit(built, CHECKLIST_PART, changed)
    quick, slow, used = both(data, monkeypatch)
    assert quick == slow
    assert not used


@pytest.mark.parametrize(
    "cut", [b"<a", b'<a b="1', b"&amp", b"\xe5", b"<!-- c", b"x", b"<a>", b"</worksheet>"]
)
@pytest.mark.parametrize("sheet", [CHECKLIST_PART, "xl/worksheets/sheet5.xml"])
def test_a_token_cut_short_where_sheet_data_s_surroundings_end_reads_alike(
    built, monkeypatch, sheet, cut
):
    """Where calamine stops reading after sheetData (the merges; the end without them)."""

    def changed(xml: bytes) -> bytes:
        at = xml.find(b"<mergeCells")
        return xml[:at] + cut + xml[at:] if at >= 0 else xml + cut

    quick, slow, _ = both(edit(built, sheet, changed), monkeypatch)
    assert quick == slow


def test_rows_out_of_order_read_alike(filled, built, monkeypatch):
    def swapped(xml: bytes) -> bytes:
        rows = re.findall(rb"<row .*?</row>", xml)
        return xml.replace(rows[3], b"\0").replace(rows[5], rows[3]).replace(b"\0", rows[5])

    for data in (filled, built):
        data = edit(data, CHECKLIST_PART, swapped)
        quick, slow, used = both(data, monkeypatch)
        assert used
        assert quick == slow


def test_hidden_rows_merges_and_visibility_read_alike(filled, monkeypatch):
    hidden = edit(
        filled, CHECKLIST_PART, lambda x: x.replace(b'<row r="5"', b'<row r="5" hidden="1"')
    )
    merged = edit(
        filled,
        CHECKLIST_PART,
        lambda x: x.replace(b"</mergeCells>", b'<mergeCell ref="G4:H4"/></mergeCells>').replace(
            b'<mergeCells count="1">', b'<mergeCells count="2">'
        ),
    )
    visible = edit(filled, "xl/workbook.xml", lambda x: x.replace(b' state="veryHidden"', b""))
    for data in (hidden, merged, visible):
        quick, slow, used = both(data, monkeypatch)
        assert used
        assert quick == slow


@pytest.mark.parametrize(
    ("number_format", "builtin"),
    [
        *[(code.decode(), None) for code in sorted(sheetxml._CODES)],
        *[(None, number) for number in sorted(sheetxml._BUILTIN)],
    ],
)
def test_number_formats_on_the_list_read_as_calamine_reads_them(
    filled, monkeypatch, number_format, builtin
):
    """Each number format the quick path knows, on the cover's date and on a checklist
    number: calamine reads them alike (a date or a number)."""

    def change(styles: bytes) -> bytes:
        if number_format is not None:
            return re.sub(
                rb'(numFmtId="164" formatCode=")[^"]*"',
                lambda m: m.group(1) + number_format.encode() + b'"',
                styles,
            )
        return styles.replace(b'<xf numFmtId="164"', f'<xf numFmtId="{builtin}"'.encode())

    data = edit(filled, "xl/styles.xml", change)
    data = edit(data, CHECKLIST_PART, set_cell("H4", b'<c r="H4" s="4"><v>45000</v></c>'))
    quick, slow, used = both(data, monkeypatch)
    assert used
    assert quick == slow


def test_a_declared_built_in_number_format_is_read_as_declared(filled, monkeypatch):
    data = edit(filled, "xl/styles.xml", lambda x: x.replace(b'numFmtId="164"', b'numFmtId="1"'))
    quick, slow, used = both(data, monkeypatch)
    assert used
    assert quick == slow
    raw = read_workbook(data)
    assert isinstance(raw, RawWorkbook)
    assert raw.cover["inspection_date"] == date(2026, 11, 12)  # "0" declared as yyyy-mm-dd


def test_a_number_format_off_the_list_goes_to_calamine(filled, monkeypatch):
    data = edit(
        filled,
        "xl/styles.xml",
        lambda x: re.sub(rb'(numFmtId="164" formatCode=")[^"]*"', rb'\1[$-F800]dddd"', x),
    )
    quick, slow, used = both(data, monkeypatch)
    assert quick == slow
    assert not used


def wrong_crc(data: bytes, name: str) -> bytes:
    """The zip with the CRC of part `name` changed in its local header and central record."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    changed = bytearray(data)
    wrong = (info.CRC ^ 1).to_bytes(4, "little")
    changed[info.header_offset + 14 : info.header_offset + 18] = wrong
    record = data.rfind(b"PK\x01\x02")
    while record >= 0:
        size = int.from_bytes(data[record + 28 : record + 30], "little")
        if data[record + 46 : record + 46 + size] == name.encode():
            changed[record + 16 : record + 20] = wrong
            return bytes(changed)
        record = data.rfind(b"PK\x01\x02", 0, record)
    raise AssertionError(name)


def test_a_part_not_matching_its_crc_reads_alike(filled, monkeypatch):
    """calamine's zip reader checks a part's CRC when it reads the part to its end, which
    calamine does for some sheets and not others (not this checklist; the manifest, yes:
    tests/test_read.py): the quick read declines any part not matching its CRC."""
    quick, slow, used = both(wrong_crc(filled, CHECKLIST_PART), monkeypatch)
    assert quick == slow
    assert not used


def test_the_hostile_corpus_reads_alike(tmp_path, monkeypatch):
    """Every file of tests/hostile.py, both ways: identical results, and the plain returns
    among them read the quick way."""
    from hostile import generate

    _, _, made = generate(tmp_path)
    used_by = {}
    for key, files in made.items():
        for name, data in files.items():
            if not name.lower().endswith((".xlsx", ".xls", ".ods", ".et")):
                continue
            quick, slow, used = both(data, monkeypatch)
            assert quick == slow, (key, name)
            used_by[key] = used
    assert used_by["good-pass"] and used_by["criterion-text"] and used_by["rows-moved"]
    assert not used_by["cell-bomb"] and not used_by["xml-bomb"]


@pytest.mark.soffice
def test_libreoffice_saved_xlsx_reads_alike(filled, tmp_path, monkeypatch):
    from audit_xls.soffice import convert

    source = tmp_path / "return.xlsx"
    source.write_bytes(filled)
    (saved,) = convert([source], "xlsx:Calc MS Excel 2007 XML", tmp_path / "saved")
    quick, slow, _used = both(saved.read_bytes(), monkeypatch)
    assert quick == slow


PLAIN_TAG_SOUPS = [b"", b"a&amp;b", b"<a>", b"<a/>", b'<a b="1" c = "x&lt;"/>text', b"</a >",
                   b"<a b=1>", b'<a b="<">', b"<a\n b='1'>", b"&bogus;", b"<:a>", b"<a b>",
                   b'<a b="1"c="2">', b"<!-- c -->", b"<?pi?>", b"<![CDATA[x]]>", b"<a  />"]  # fmt: skip


def test_plain_tags_match_alike_with_and_without_possessive_repeats(built):
    """Python 3.10 compiles _PLAIN_TAGS with its possessive repeats (3.11+) greedy
    (sheetxml._possessive): it must match the same."""
    greedy = sheetxml._PLAIN_TAGS.pattern.replace(b"*+", b"*").replace(b"++", b"+")
    plain = re.compile(greedy)
    assert b"*+" not in plain.pattern and b"++" not in plain.pattern
    with zipfile.ZipFile(io.BytesIO(built)) as archive:
        parts = [archive.read(name) for name in archive.namelist()]
    soups = PLAIN_TAG_SOUPS + [a + b for a in PLAIN_TAG_SOUPS for b in PLAIN_TAG_SOUPS]
    for text in parts + soups:
        body = text.split(b"?>", 1)[-1]  # past an XML declaration
        expected = plain.fullmatch(body) is not None
        assert (sheetxml._PLAIN_TAGS.fullmatch(body) is not None) == expected, body[:80]
    assert sum(plain.fullmatch(t) is not None for t in soups) > len(soups) // 10
