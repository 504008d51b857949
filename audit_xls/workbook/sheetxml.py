"""The usual xlsx sheet read in one pass of our own, as calamine would read it.

read.py inflates the three sheets it needs (and the shared strings) for its safety checks
anyway; for a file of the usual shape, reading their values from those same bytes costs
less than calamine opening the file, inflating and parsing them again. The usual shape is
narrow on purpose: every cell spelled `<c r="B4" s="3" t="s">` (attributes in that order,
no prefix), its content one formula, one value or one inline string without markup, shared
strings without rich text, texts without `_xHHHH_` escapes or carriage returns (by
reference too: calamine trims after resolving), numbers in plain decimal spelling, number
formats of a short known list declared in the one <numFmts> before <cellXfs>; the rows one
after another, none closing itself, no end tag closing nothing; each part
opening with its root element unprefixed, and no markup hidden from a search (quoted in an
attribute, in a comment) where one is made (tests/test_read_quick_fuzz.py names each shape
that once read otherwise). Anything else returns None,
and read.py reads the file through calamine instead: the result is then the same by
construction, and tests/test_read_quick.py feeds workbooks through both ways and compares.

Everything here is a pure function of bytes; nothing that comes from a file is kept for the
next (the column letters' numbers are remembered: a parse of fixed syntax).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any
from xml.parsers import expat

# Every tag of sheetData, in one pass and in order: a cell of the usual spelling, a row's start
# tag, a row's end tag. A cell is spelled `<c r="B4" s="3" t="s">` (attributes in that order, no
# prefix), then one of these shapes, the commonest read straight from their groups:
#   a shared string (`t="s"><v>12</v></c>`): its reference (group 1) and index (2);
#   an inline string, plain (`t="inlineStr"><is><t>a</t></is></c>`): reference and text (3);
#   a number's formula without its value (`><f>1+1</f><v></v></c>`, as build writes every
#   formula): reference and "<" (4);
#   closing itself, of a type calamine reads (it changes nothing): its reference only;
#   any other with content: the whole cell but its "<" (5), read again by _CELL: at most one
#   formula and one value or one inline string (`<c ...></c>` matches and is refused when read).
# A row's start tag is whole (6: its number), with the previous row's end tag when right
# before it (a match of its own costs the regex engine more than the tag's characters);
# other row end tags are left between matches and counted on their own.
# Every "<" of sheetData is counted in these: a match holds no "<" that could start another
# (only `<c r="` and `<row r="` or `</row><row r="` start one), so they never overlap, and one
# "<" left over is a shape this does not read. Few groups: each costs every match.
_CELL_REF = rb"([A-Z]{1,3}[1-9][0-9]{0,6})"
_STYLE = rb'(?: s="[0-9]{1,9}"|)'
_CELL_FORMULA = rb"<f>[^<]*</f>|<f [^<>]*/>|<f [^<>]*>[^<]*</f>"
_CELL_VALUE = rb"<v>[^<]*</v>|<v ?/>"
_CELL_INLINE = rb'<is><t(?: xml:space="preserve")?>'  # then the text and </t></is>
# A row's attributes after r="...": printable ASCII (calamine refuses a tag it cannot decode),
# values double-quoted without "<" or ">", up to 16 of them (nested rather than repeated: a
# repeated group costs the regex engine more than the rest of the tag).
_ROW_ATTRIBUTES = rb"[\t\n\r !#-&(-;=?-~]*"
for _ in range(16):
    _ROW_ATTRIBUTES = rb'[\t\n\r !#-&(-;=?-~]*(?:"[\t\n\r !#-;=?-~]*"' + _ROW_ATTRIBUTES + rb"|)"
# not a row closing itself: calamine's reading of the row end tags after it is not this one's
# (see _rows_closed), so such a sheet is left to calamine
_ROW_ATTRIBUTES += rb"(?<!/)"
_TAG = re.compile(
    rb'<(?:c r="' + _CELL_REF + rb'"' + _STYLE + rb'(?: t="s"><v>([0-9]{1,9})</v></c>'
    rb'| t="inlineStr"><is><t>([^<]+)</t></is></c>'
    rb"|>(<)f>[^<]*</f><v></v></c>"
    rb'|(?: t="(?:n|s|str|inlineStr|b|e)"|)(?: |)/>)'
    rb'|(c r="[A-Z]{1,3}[1-9][0-9]{0,6}"' + _STYLE + rb'(?: t="[a-zA-Z]{1,9}"|)>'
    rb"(?:" + _CELL_FORMULA + rb"|)"
    rb"(?:" + _CELL_VALUE + rb"|" + _CELL_INLINE + rb"[^<]*</t></is>|)</c>)"
    rb'|(?:/row><|)row r="([1-9][0-9]{0,6})"' + _ROW_ATTRIBUTES + rb">)"
)  # fmt: skip
# a cell with content, as _TAG found it: reference, style, type attribute, formula, value,
# inline string's opening (<is><t>) and text
_CELL = re.compile(
    rb'c r="' + _CELL_REF + rb'"(?: s="([0-9]{1,9})"|)( t="[a-zA-Z]{1,9}"|)>(' + _CELL_FORMULA
    + rb"|)(?:(" + _CELL_VALUE + rb")|(" + _CELL_INLINE + rb")([^<]*)</t></is>|)</c>"
)  # fmt: skip
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
# an inline string's text starting or ending with a space calamine would trim, in texts joined
# by "\0" between two "\0"
_EDGE_SPACE = re.compile(rb"\0[ \t\n]|[ \t\n]\0")
_NUMBER = re.compile(rb"-?[0-9]{1,300}(?:\.[0-9]{1,300})?(?:[eE][-+]?[0-9]{1,3})?")
_ENTITY = re.compile(rb"&(?:#([0-9]{1,7})|#x([0-9a-fA-F]{1,6})|(lt|gt|quot|apos|amp));")
_NAMED = {b"lt": b"<", b"gt": b">", b"quot": b'"', b"apos": b"'", b"amp": b"&"}
_SI = re.compile(rb'<si><t( xml:space="preserve")?>([^<]*)</t></si>|<si><t/></si>|(<)')
_SST = re.compile(rb"<sst(?: [^<>]*)?>(.*)</sst>|<sst(?: [^<>]*)?/>", re.S)
_MERGE = re.compile(rb'<mergeCell ref="' + _CELL_REF + b":" + _CELL_REF + rb'" ?/>|([^<]+|<)')
_SHEET = re.compile(
    rb'<sheet name="([^"<>]*)" sheetId="[0-9]{1,9}"(?: state="(visible|hidden|veryHidden)")?'
    rb' r:id="([^"<>]*)" ?/>|([^<]+|<)'
)
_VISIBILITY = {b"": "visible", b"visible": "visible", b"hidden": "hidden",
               b"veryHidden": "very_hidden"}  # fmt: skip
_XF = re.compile(rb"<xf(?=[\s/>])([^<>]*)>")
# calamine matches a cell style's numFmtId to the declared formats by its text: only the usual
# spelling of a number ("164", not "0164") is read here
_NUM_FMT_ID = re.compile(rb'\snumFmtId="(0|[1-9][0-9]{0,8})"')
_NUM_FMT = re.compile(rb'<numFmt numFmtId="(0|[1-9][0-9]{0,8})" formatCode="([^"<>]*)" ?/>|(\S)')
_STYLE_PREFIXED = re.compile(rb"</?[\w.-]+:(?:numFmts?|xf|cellXfs|styleSheet)[\s/>]")
# A part's usual start: an XML declaration at most, then its root element without a prefix.
_ROOT = re.compile(
    rb"(?:\xef\xbb\xbf)?[ \t\r\n]*"
    rb"(?:<\?xml(?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'))*\s*\?>[ \t\r\n]*)?"
    rb"<([A-Za-z_][\w.-]*)(?=[\s/>])"
)
# Well-formed tags and text: attributes name="value", double-quoted, with neither "<" nor ">"
# in a value; references that resolve; no comment, CDATA or instruction. A stretch where every
# "<" starts a tag ending at the next ">" as calamine reads it (markup quoted in an attribute or
# a comment, or a tag cut short by a quoted ">", would fool a search), and where calamine
# meets no XML error (it refuses a file for a malformed attribute or reference in the parts it
# reads, and for a part cut short).
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_AFTER_NAME = (b" ", b"\t", b"\n", b"\r", b"\f", b"\v", b"/", b">")  # _ROOT's [\s/>]


def _possessive(pattern: bytes) -> re.Pattern[bytes]:
    """The pattern compiled with its possessive repeats; before Python 3.11 (no such syntax,
    re.error "multiple repeat") with the same repeats greedy: the same matches, only slower."""
    if sys.version_info < (3, 11):
        pattern = pattern.replace(b"*+", b"*").replace(b"++", b"+")
    return re.compile(pattern)


# Possessive repeats (*+, ++): each repeat stops at a character it cannot take, which the
# next part must start with, so giving some back never matches more; the regex engine then
# keeps no state to backtrack (about a third of its time here).
_NAME = rb"[A-Za-z_][\w.:-]*+"
_REF = rb"&(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});"
_VALUE = rb'"[^"<>&]*+(?:' + _REF + rb'[^"<>&]*+)*+"'
_TEXT = rb"[^<&]*+(?:" + _REF + rb"[^<&]*+)*+"
_PLAIN_TAGS = _possessive(
    _TEXT + rb"(?:<(?:/" + _NAME + rb"\s*+|" + _NAME + rb"(?:\s++" + _NAME + rb"\s*+=\s*+"
    + _VALUE + rb")*+\s*+/?)>" + _TEXT + rb")*+"
)  # fmt: skip
_SHEET_TAG = re.compile(rb"<sheet[\s/>]")

# Number formats whose reading by calamine is known (tests/test_read_quick.py checks each
# against calamine): built-in 0-13 and 49 and these codes read as numbers, built-in 14 and
# these codes as dates; any other format a number cell uses sends the file to calamine.
PLAIN, DATE = 0, 1
_BUILTIN = {**dict.fromkeys((*range(14), 49), PLAIN), 14: DATE}
_CODES = {
    b"General": PLAIN, b"0": PLAIN, b"0.0": PLAIN, b"0.00": PLAIN, b"@": PLAIN,
    b"yyyy-mm-dd": DATE, b"yyyy/m/d": DATE, b"yyyy/mm/dd": DATE, b"yyyy-m-d": DATE,
}  # fmt: skip
# Date serials read as a date without a time: 61 (1900-03-01, past Excel's leap-year bug)
# to 2958465 (9999-12-31); calamine reads others otherwise (times, the bug, floats).
_FIRST_SERIAL, _LAST_SERIAL = 61, 2958465
_EPOCH = date(1899, 12, 30).toordinal()
# the error texts calamine reads (CellErrorType); any other fails the whole file
_ERRORS = frozenset((b"#DIV/0!", b"#N/A", b"#NAME?", b"#NULL!", b"#NUM!", b"#REF!", b"#VALUE!"))
_TYPES = frozenset((b"", b"n", b"s", b"str", b"inlineStr", b"b", b"e"))

# Numbers as Excel spells them (row numbers, shared string indices), looked up rather than
# parsed (int() of bytes costs more than the rest of a cell); others are parsed.
_NUMBERS = 8192
_INDEX = [str(n).encode() for n in range(_NUMBERS)]


class _Numbers(dict[bytes, int]):
    def __missing__(self, digits: bytes) -> int:
        return int(digits)


_NUMBER_OF = _Numbers(zip(_INDEX, range(_NUMBERS), strict=True))
# the same as a plain dict (a dict's subclass is looked up more slowly): the shared string
# cells' indices as Excel spells them; others go to _shared_by_number
_INDEX_OF = dict(_NUMBER_OF)
_COLUMNS: dict[bytes, int] = {}
_MAX_ROWS, _MAX_COLUMNS = 1_048_576, 16_384


def column(letters: bytes) -> int:
    """0-based column of upper-case letters (A -> 0), remembered: the same few every time."""
    found = _COLUMNS.get(letters)
    if found is None:
        number = 0
        for letter in letters:
            number = number * 26 + letter - 64
        found = _COLUMNS[letters] = number - 1
    return found


class _Places(dict[bytes, tuple[int, int]]):
    """A cell reference -> its 0-based (row, column): b"B4" -> (3, 1). A parse of fixed syntax,
    remembered up to a bound (workbooks use the same few hundred references)."""

    def __missing__(self, ref: bytes) -> tuple[int, int]:
        letters = ref.rstrip(b"0123456789")
        place = (int(ref[len(letters) :]) - 1, column(letters))
        if len(self) < _PLACES_KEPT:
            self[ref] = place
        return place


_PLACES_KEPT = 1 << 16
_PLACE = _Places()


class Unusual(Exception):
    """Not the usual shape: read the file through calamine."""


def _root(xml: bytes, name: bytes) -> int:
    """Where the part's root element `name` starts; Unusual for another prolog or root (a
    comment or instruction before it, a prefix)."""
    if xml.startswith(_DECLARATION):  # Excel's prolog, then the root: what _ROOT finds
        at = len(_DECLARATION) + (
            1 if xml.startswith(b"\n", len(_DECLARATION)) else
            2 if xml.startswith(b"\r\n", len(_DECLARATION)) else 0
        )  # fmt: skip
        end = at + 1 + len(name)
        if xml.startswith(b"<" + name, at) and xml[end : end + 1] in _AFTER_NAME:
            return at
    found = _ROOT.match(xml)
    if found is None or found.group(1) != name:
        raise Unusual
    return found.start(1) - 1


def _balanced(xml: bytes, start: int) -> None:
    """Unusual unless the tags from `start` (plain, the root's start tag) close as they open:
    calamine's reader fails the file on an end tag past the root's, or reads a text to an end
    tag never found. Asked of expat without handlers (C speed; stricter than calamine: end
    tags must name their start tags, one root, UTF-8), so what it refuses is only declined."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(xml[start:], True)
    except expat.ExpatError:
        raise Unusual from None


def _refuse(*_: object) -> None:
    raise Unusual


def _refusing_parser() -> Any:
    """An expat parser that refuses what calamine reads otherwise: comments, processing
    instructions, CDATA and a DOCTYPE."""
    parser = expat.ParserCreate()
    parser.CommentHandler = _refuse
    parser.ProcessingInstructionHandler = _refuse
    parser.StartCdataSectionHandler = _refuse
    parser.StartDoctypeDeclHandler = _refuse
    return parser


# every byte past ASCII as 0x80, the others as they are: such bytes found by memchr
_HIGH_AS_ONE = bytes(range(128)) + b"\x80" * 128


def _expat_decides(xml: bytes, start: int) -> bool:
    """No single quote, character reference, ">" beyond the "<", or unusual name from `start`:
    then expat with _refusing_parser's handlers decides what _PLAIN_TAGS would (see
    _plain_document)."""
    return (
        xml.find(b"'", start) < 0
        and xml.find(b"&#", start) < 0
        and xml.count(b"<", start) == xml.count(b">", start)
        and _usual_names(xml, start)
    )


def _plain_document(xml: bytes, start: int) -> None:
    """_plain(xml, start, len(xml)) and _balanced(xml, start): the same verdict, for the
    usual part in one expat pass. Where expat reads a part well-formed from its root on,
    without a comment, instruction or CDATA section (handlers refuse them), what _PLAIN_TAGS
    refuses besides is: a single quote, a character reference (&#...: each checked), a ">"
    in a value or a text (then the part has more ">" than "<", every "<" opening a tag), a
    name starting with a colon or holding a byte past ASCII. A part with none of these is
    decided by expat alone; any other gets both checks."""
    if not _expat_decides(xml, start):
        _plain(xml, start, len(xml))
        _balanced(xml, start)
        return
    parser = _refusing_parser()
    try:
        parser.Parse(xml[start:], True)
    except expat.ExpatError:
        raise Unusual from None


def _usual_names(xml: bytes, start: int) -> bool:
    """No name from `start` on starting with a colon or holding a byte past ASCII, for a
    part without single quotes or a ">" in a value or text (a name is what a tag holds
    outside its double-quoted values; a stray colon or byte elsewhere is text or a value)."""
    colon = xml.find(b":", start)
    while colon >= 0:
        before = xml[colon - 1]
        if before in b"< \t\n\r" or (before == 47 and xml[colon - 2] == 60):  # "</:"
            return False
        colon = xml.find(b":", colon + 1)
    if xml.isascii():
        return True
    marked = xml.translate(_HIGH_AS_ONE)
    at = marked.find(b"\x80", start)
    while at >= 0:
        opened = xml.rfind(b"<", start, at)
        if opened < xml.rfind(b">", start, at):
            resume = xml.find(b"<", at)  # in a text: on from the next tag
        elif xml.count(b'"', opened, at) & 1:
            resume = xml.find(b'"', at)  # in a value: on from its end
        else:
            return False  # in a tag outside its values: a name
        at = marked.find(b"\x80", resume) if resume >= 0 else -1
    return True


def _plain(xml: bytes, start: int, end: int) -> None:
    """Unusual unless xml[start:end] is plain tags (_PLAIN_TAGS)."""
    if _PLAIN_TAGS.fullmatch(xml, start, end) is None:
        raise Unusual
    if xml.find(b"&#", start, end) >= 0:  # a character calamine refuses to resolve (&#0;)
        for reference in _ENTITY.finditer(xml, start, end):
            _reference(reference)


def text(raw: bytes) -> str:
    """An XML text as calamine gives it (references resolved); Unusual for what it treats
    otherwise (`_xHHHH_` escapes, line ends it normalises, references it refuses)."""
    if b"_x" in raw or b"\r" in raw:
        raise Unusual
    if b"&" not in raw:
        return raw.decode()
    if len(_ENTITY.findall(raw)) != raw.count(b"&"):
        raise Unusual
    return _ENTITY.sub(_reference, raw).decode()


def _reference(match: re.Match[bytes]) -> bytes:
    decimal, hexadecimal, named = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if not (code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF):  # fmt: skip
        raise Unusual
    return chr(code).encode()


def _trimmed(raw: bytes, preserve: bytes | bool) -> str:
    """An <si> or inline string's <t>: calamine trims it unless xml:space="preserve", after
    resolving its references (`&#32;a` is read "a")."""
    found = text(raw)
    if not preserve and found != found.strip(" \t\n\r"):
        raise Unusual
    return found


def shared_strings(xml: bytes | None) -> list[str]:
    """The shared strings table: plain <si><t> items only."""
    if xml is None:
        return []
    root = _root(xml, b"sst")
    _plain(xml, root, xml.find(b">", root) + 1)  # calamine reads its attributes
    body = _SST.search(xml)
    # one <sst>: the root (its start tag holds no "<"), none after; every "<" of the items is
    # accounted for below
    if body is None or body.start() != root or xml.find(b"<sst", body.end()) >= 0:
        raise Unusual
    inner = body.group(1) or b""
    quick = _usual_items(inner)
    if quick is not None:
        return quick
    out = []  # any other table of plain items, item by item
    for preserve, raw, junk in _SI.findall(inner):
        if junk:
            raise Unusual
        out.append(_trimmed(raw, preserve))
    if len(out) != inner.count(b"<si"):
        raise Unusual
    return out


_PRESERVED = b'<t xml:space="preserve">'
_BETWEEN_ITEMS = b"</t></si><si><t>"
# blanks calamine trims as 0x01 (and 0x01, not XML, as 0x02): each found by one search
_BLANK_AS_ONE = bytes.maketrans(b" \t\n\x01", b"\x01\x01\x01\x02")


def _usual_items(inner: bytes) -> list[str] | None:
    """The items of the usual table (each <si> one plain <t>, xml:space="preserve" or not)
    by whole-table operations, or None for shared_strings' own ways: the table with "\0"
    for each item's end tags and the next one's start, decoded once. Every "<" is in those
    tags when none is left; calamine would resolve or trim none of the texts (no reference,
    escape, line end or "\0"; no blank first or last, preserved or not)."""
    if len(inner) < 16 or b"&" in inner or b"\r" in inner or b"\0" in inner or _escape_in(inner):
        return None
    items = inner.replace(_PRESERVED, b"<t>")
    if not (items.startswith(b"<si><t>") and items.endswith(b"</t></si>")):
        return None
    joined = items[7:-9].replace(_BETWEEN_ITEMS, b"\0")
    if b"<" in joined:
        return None  # markup inside an item, or between items
    if _blank_at_an_end(joined):
        return None
    try:
        return joined.decode().split("\0")
    except UnicodeDecodeError:
        return None  # shared_strings' own ways say how it fails


def _blank_at_an_end(joined: bytes) -> bool:
    """A blank calamine trims (space, tab, line feed) first or last in an item ("\0" between
    them): looked for at each blank (found at C speed, one kind after another) while they are
    few, then by searches of two bytes in the table with its blanks as 0x01 (slower)."""
    if joined.startswith(_BLANKS) or joined.endswith(_BLANKS):
        return True
    left = 64
    for blank in _BLANKS:
        at = joined.find(blank)
        while at >= 0:
            if not left:
                blanks = joined.translate(_BLANK_AS_ONE)
                return blanks.find(b"\0\x01") >= 0 or blanks.find(b"\x01\0") >= 0
            left -= 1
            if joined[at - 1] == 0 or joined[at + 1] == 0:  # neither first nor last: inside
                return True
            at = joined.find(blank, at + 1)
    return False


_BLANKS = (b" ", b"\t", b"\n")


def _escape_in(inner: bytes) -> bool:
    """`_x` in the table: looked for past each "_" (found at C speed) while they are few,
    then by a search of the two bytes (slower)."""
    at = inner.find(b"_")
    for _ in range(16):
        if at < 0:
            return False
        if inner.startswith(b"x", at + 1):
            return True
        at = inner.find(b"_", at + 1)
    return b"_x" in inner


class Styles:
    """Cell style -> how calamine reads a number in it (PLAIN or DATE), from xl/styles.xml,
    worked out for the styles number cells use."""

    def __init__(self, xml: bytes | None):
        self.xml = xml
        self._kinds: dict[bytes, int] = {}
        self._xfs: list[bytes] | None = None  # each cell style's attributes
        self._custom: dict[int, int | None] | None = None  # number formats declared

    def check(self) -> None:
        """Unusual for a styles part calamine would read otherwise or refuse (it reads the
        part when it opens the file, whether a cell needs a style or not)."""
        if self.xml is not None and self._xfs is None:
            self._read()

    def kind(self, style: bytes) -> int:
        found = self._kinds.get(style)
        if found is None:
            found = self._kinds[style] = self._kind(style)
        return found

    def _kind(self, style: bytes) -> int:
        if self._xfs is None or self._custom is None:
            self._read()
        assert self._xfs is not None and self._custom is not None
        index = int(style)
        if index >= len(self._xfs):
            raise Unusual
        attrs = self._xfs[index]
        if b"numFmtId" not in attrs:
            return PLAIN  # calamine: a style without a number format (not format 0)
        found = _NUM_FMT_ID.search(attrs)
        if found is None or attrs.count(b"numFmtId") != 1:
            raise Unusual
        number = int(found.group(1))
        # a format the file declares wins, built-in or not (calamine reads it so)
        custom = self._custom
        kind = custom[number] if number in custom else _BUILTIN.get(number)
        if kind is None:
            raise Unusual  # a number format not on the list
        return kind

    def _read(self) -> None:
        if self.xml is None:
            raise Unusual
        self._xfs, self._custom = _styles(self.xml)


def _styles(xml: bytes) -> tuple[list[bytes], dict[int, int | None]]:
    """Each cell style's attributes and the declared number formats as calamine reads them:
    formats from the one <numFmts> before <cellXfs> (a <dxf>'s own are not), then the <xf> of
    the one <cellXfs>; the whole part plain tags (_plain: calamine reads it to its end).
    Worked out for every file: nothing that comes from a file is remembered for the next."""
    root = _root(xml, b"styleSheet")
    start = xml.find(b"<cellXfs")
    end = xml.find(b"</cellXfs>", start)
    if start < 0 or end < 0 or xml.find(b"<cellXfs", start + 1) >= 0:
        raise Unusual
    if (
        not xml.rstrip().endswith(b"</styleSheet>")
        or xml.find(b"</styleSheet") < end
        or _style_prefixed(xml)
    ):
        raise Unusual
    _plain_document(xml, root)
    xml.decode()  # UnicodeDecodeError: calamine decodes the format codes
    custom: dict[int, int | None] = {}
    formats = xml.find(b"<numFmts")
    if formats >= 0:
        close = xml.find(b"</numFmts>", formats)
        inner = xml.find(b">", formats) + 1
        if close < 0 or close > start or xml.find(b"<numFmts", formats + 1) >= 0:
            raise Unusual
        if xml[inner - 2] == 47:  # <numFmts/>: calamine reads no numFmt after it
            raise Unusual
        for number, code, junk in _NUM_FMT.findall(xml, inner, close):
            if junk:
                raise Unusual
            custom[int(number)] = _CODES.get(code)
    return _XF.findall(xml, start + 8, end), custom


_STYLE_NAMES = (b"numFmt", b"xf", b"cellXfs", b"styleSheet")


def _style_prefixed(xml: bytes) -> bool:
    """_STYLE_PREFIXED found, searched for only past a colon before one of its names (a
    styles part has few colons; the search costs more than the whole part's other checks)."""
    colon = xml.find(b":")
    while colon >= 0:
        if xml.startswith(_STYLE_NAMES, colon + 1):
            return _STYLE_PREFIXED.search(xml) is not None
        colon = xml.find(b":", colon + 1)
    return False


@dataclass
class Sheet:
    """One sheet read the usual way: calamine's grid and what read.py checks beside it."""

    grid: list[list[Any]]
    formulas: set[tuple[int, int]] = field(default_factory=set)  # every cell with a formula
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # t="e" -> its text
    extent: tuple[int, int] = (0, 0)  # rows, columns up to the farthest cell with content
    string_cells: int = 0  # cells naming a shared string
    lowest: float = 0.0  # the lowest number read (read.py's date check)
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


def sheet(xml: bytes, strings: list[str], styles: Styles, max_cells: int) -> Sheet:
    """The sheet's values as calamine's to_python(skip_empty_area=False) gives them.

    Raises Unusual for any other shape, or when its extent passes `max_cells` (read.py then
    refuses it by its own exact walk)."""
    root = _root(xml, b"worksheet")
    # sheetData: from its one start tag to the last end tag (or closing itself). What is in it
    # is accounted for "<" by "<" below (a second <sheetData or a prefixed tag there is one
    # left over), so only what is before and after is searched here.
    opening = xml.find(b"<sheetData")
    if opening < 0:
        raise Unusual
    if xml.startswith(b"<sheetData>", opening):
        start = opening + 11
        end = xml.rfind(b"</sheetData>")
        if end < start:
            raise Unusual
        after = end + 12
    elif xml.startswith(b"<sheetData/>", opening):
        start = end = after = opening + 12
    else:
        raise Unusual
    if (
        xml.find(b"<sheetData", after) >= 0
        or xml.find(b":sheetData", 0, opening) >= 0
        or xml.find(b":sheetData", after) >= 0
    ):
        raise Unusual
    # after sheetData calamine reads up to the merges, or to the end when there are none
    merges = xml.find(b"<mergeCells", after)
    _around(xml, root, opening, after, merges if merges >= 0 else len(xml))
    out = Sheet([], merged=merged(xml, opening, after))  # calamine reads (and refuses) them
    found = _TAG.findall(xml, start, end)
    index_of = _INDEX_OF
    # One loop over the tags in document order, so that of a cell given twice the last value
    # wins, as in calamine: shared strings and plain inline strings go straight to their
    # references and items (texts decoded together below), the rarer cells are noted for after.
    valued: list[bytes] = []  # the references of the cells with a value, in order
    items: list[Any] = []
    texts: list[bytes] = []  # plain inline strings' texts, and where each is in items
    text_at: list[int] = []
    formula_refs: list[bytes] = []  # cells with a number's formula and no value
    contents: list[bytes] = []  # the other cells with content, and how many items precede each
    content_at: list[int] = []
    top = 0  # the highest row tag's number
    for ref, index, raw, formula, content, number in found:
        if index:
            valued.append(ref)
            try:
                items.append(strings[index_of[index]])
            except (KeyError, IndexError):  # an index spelled otherwise ("012"), or past the table
                items.append(_shared_by_number(strings, index))
        elif number:
            row = _NUMBER_OF[number]
            if row > top:
                top = row
        elif raw:
            texts.append(raw)
            text_at.append(len(items))
            valued.append(ref)
            items.append(raw)
        elif formula:
            formula_refs.append(ref)
        elif content:
            content_at.append(len(items))
            contents.append(content)
    places = list(map(_PLACE.__getitem__, valued))  # at C speed, not in the loop
    string_cells = len(items) - len(texts)
    joined = b"".join(contents)
    cells = _CELL.findall(joined)
    # every "<" read: four in a shared string cell, six in a plain inline string's and in a
    # formula's without its value, one in a cell closing itself or a row's start tag, one
    # before any other cell with content and those in it; those left over are the row end
    # tags' (with the next row's start tag or alone) and anything else's (_rows_closed)
    seen = len(found) + 3 * string_cells + 5 * (len(texts) + len(formula_refs))
    seen += joined.count(b"<")
    if len(cells) != len(contents):
        raise Unusual  # something else in sheetData
    _rows_closed(xml, start, end, xml.count(b"<", start, end) - seen)
    if texts:
        for at, decoded in zip(text_at, _inline_texts(texts), strict=True):
            items[at] = decoded
    reading = _Cells(strings, styles, out)
    reading.formulas(formula_refs)
    if cells:  # the other cells read one by one, then put in their places in the order
        read = reading.read(cells)
        all_places: list[tuple[int, int]] = []
        all_items: list[Any] = []
        done = 0
        for at, cell in zip(content_at, read, strict=True):
            if cell is not None:
                all_places += places[done:at]
                all_items += items[done:at]
                done = at
                all_places.append(cell[0])
                all_items.append(cell[1])
        places = all_places + places[done:]
        items = all_items + items[done:]
    last_row = max(map(_FIRST, places)) if places else -1
    last_col = max(map(_SECOND, places)) if places else -1
    # the extent as read.py counts it: every row with content and every cell with content
    # (rows closing themselves counted too: erring large only sends the file to calamine)
    rows = max(top, last_row + 1, reading.empty_row + 1)
    cols = max(1 if top else 0, last_col + 1, reading.empty_col + 1)
    if rows * cols > max_cells or rows > _MAX_ROWS or cols > _MAX_COLUMNS:
        raise Unusual  # too large, or past the last cell a sheet can hold (XFD1048576)
    grid = [[""] * (last_col + 1) for _ in range(last_row + 1)]
    for (r, c), item in zip(places, items, strict=True):
        grid[r][c] = item  # in the order read: the last value given wins
    out.grid = grid
    out.extent = (rows, cols)
    out.string_cells = string_cells + reading.string_cells
    out.lowest = reading.lowest
    return out


# expat's error for a document ending with elements open and nothing else pending
_ELEMENTS_OPEN = expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]


def _around(xml: bytes, root: int, opening: int, after: int, stop: int) -> None:
    """_plain(xml, root, opening), _plain(xml, after, stop) and _closes_opened(xml, root,
    opening, after, stop): the same verdict, for the usual sheet in one expat pass.

    The two stretches are plain tags exactly when they are, joined by `<sheetData/>` (a
    whole tag: no tag, text or reference runs across it), which is what _closes_opened
    parses. Where expat reads that without an error to its end (_ended: nothing cut short),
    with handlers refusing comments, instructions and CDATA sections, _plain_document's
    pre-checks leave _PLAIN_TAGS nothing else to refuse (its docstring says why); a stretch
    failing them gets the three checks."""
    around = xml[root:opening] + b"<sheetData/>" + xml[after:stop]
    if not _expat_decides(around, 0):
        _plain(xml, root, opening)
        _plain(xml, after, stop)
        _closes_opened(xml, root, opening, after, stop)
        return
    parser = _refusing_parser()
    try:
        parser.Parse(around, False)
    except expat.ExpatError:
        raise Unusual from None
    _ended(parser)


def _closes_opened(xml: bytes, root: int, opening: int, after: int, stop: int) -> None:
    """Unusual unless each end tag calamine reads around sheetData closes a tag opened before
    it: calamine fails a sheet on an end tag with no tag open (quick-xml: "close tag ... does
    not match any open tag"), reading to the merges, or to the end when there are none. Asked
    of expat, stricter (end tags must name their start tags), sheetData's content left out;
    and nothing cut short where calamine stops (_ended)."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(xml[root:opening] + b"<sheetData/>" + xml[after:stop], False)
    except expat.ExpatError:
        raise Unusual from None
    _ended(parser)


def _ended(parser: Any) -> None:
    """Unusual unless expat's parse of a stretch ends with no token or character cut short
    at its end (elements may be left open). A parse not told it ends leaves them unjudged:
    a UTF-8 character cut short right before the merges (or at the end of a sheet without
    them) is one calamine fails the file for ("cannot decode input using UTF-8"); a tag or
    reference cut short there is one _plain refuses."""
    try:
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        if error.code != _ELEMENTS_OPEN:
            raise Unusual from None


def _rows_closed(xml: bytes, start: int, end: int, left: int) -> None:
    """Unusual unless sheetData (from `start` to `end`) holds nothing but the tags read and
    each row end tag in it closes a row opened before it, as calamine needs (see
    _closes_opened): read here in the usual shape only, the rows one after another from
    sheetData's start to its end, each ended right before the next starts (rows closing
    themselves are not read).

    `left`: the "<" not in a tag read, one for each row end tag (alone, or taken with the
    next row's start tag: its "<" then stands for the start tag's) and for anything else.
    None left is no row end tag and nothing else; otherwise one more than the row end tags
    taken with a row's start tag, with sheetData's last tag a row end tag (so one alone)
    and its first a row's start tag, is those row end tags and nothing else. The same
    verdict as counting the row end tags and requiring "<" left over for each and no other."""
    if left and (
        left != xml.count(b'</row><row r="', start, end) + 1
        or not xml.startswith(b'<row r="', start)
        or not xml.endswith(b"</row>", start, end)
    ):
        raise Unusual


def _shared_by_number(strings: list[str], index: bytes) -> str:
    """A shared string by its index spelled otherwise than Excel writes it ("012")."""
    try:
        return strings[_NUMBER_OF[index]]
    except IndexError:
        raise Unusual from None


_NO_CELL = object()  # _Cells.read: a cell with content but no value


class _Cells:
    """What the rarer cells of a sheet add beside their values: the extent of those with
    content but no value, their formulas and errors, and the lowest number read."""

    def __init__(self, strings: list[str], styles: Styles, out: Sheet):
        self.strings, self.styles, self.out = strings, styles, out
        self.string_cells = 0
        self.empty_row = self.empty_col = -1  # cells with content but no value
        self.lowest = 0.0

    def formulas(self, refs: list[bytes]) -> None:
        """Cells with a number's formula and no value: in the extent, not in the grid."""
        if refs:
            places = list(map(_PLACE.__getitem__, refs))
            self.out.formulas.update(places)
            self.empty_row = max(self.empty_row, max(places)[0])
            self.empty_col = max(self.empty_col, max(map(_SECOND, places)))

    def read(self, cells: Iterable[tuple[bytes, ...]]) -> list[tuple[tuple[int, int], Any] | None]:
        """Cells with content (_CELL's groups), one by one: each one's place and value, or
        None for a cell without a value."""
        strings, count, kind_of = self.strings, len(self.strings), self.styles.kind
        formulas, errors = self.out.formulas, self.out.errors
        out: list[tuple[tuple[int, int], Any] | None] = []
        string_cells = 0
        empty_row, empty_col, lowest = self.empty_row, self.empty_col, self.lowest
        inlines: list[tuple[int, bytes, bool]] = []  # (where in out, text, preserved)
        for ref, style, kind, formula, value, opening, inline in cells:
            place = _PLACE[ref]
            item: Any
            kind = kind[4:-1]
            if kind not in _TYPES:
                raise Unusual
            if formula:
                formulas.add(place)
            if value:
                if value[-2] == 47:  # <v/>: no value
                    if kind not in (b"", b"n", b"e"):
                        raise Unusual
                    value = b""
                else:
                    value = value[3:-4]
                if kind == b"" or kind == b"n":
                    if not value:
                        item = _NO_CELL  # an empty value
                    elif not value.isdigit() and _NUMBER.fullmatch(value) is None:
                        raise Unusual
                    else:
                        item = float(value)
                        if item < lowest:
                            lowest = item
                        if kind_of(style or b"0") == DATE:
                            if not (item.is_integer() and _FIRST_SERIAL <= item <= _LAST_SERIAL):
                                raise Unusual
                            item = date.fromordinal(_EPOCH + int(item))
                elif kind == b"s":
                    if not value.isdigit() or int(value) >= count:
                        raise Unusual
                    item = strings[int(value)]
                    string_cells += 1
                elif kind == b"str":
                    item = text(value)
                elif kind == b"b":
                    if value == b"1":
                        item = True
                    elif value == b"0":
                        item = False
                    else:
                        raise Unusual
                elif kind == b"e":
                    if value and value not in _ERRORS:
                        raise Unusual  # calamine refuses the file for another error's text
                    errors[place] = value.decode() or "#N/A"
                    # calamine reads an error as "" (read.py puts its text back); one without
                    # its text is no cell
                    item = "" if value else _NO_CELL
                else:
                    raise Unusual  # a <v> in an inline string cell
            elif opening:
                if kind != b"inlineStr":
                    raise Unusual
                inlines.append((len(out), inline, len(opening) > 7))  # xml:space="preserve"
                item = None  # its text below, all at once
            elif formula:
                if kind == b"e":
                    errors[place] = "#N/A"
                item = _NO_CELL  # a formula without a cached value
            else:
                raise Unusual  # <c ...></c>: not the usual shape
            if item is _NO_CELL:  # content but no value: in the extent, not in the grid
                if place[0] > empty_row:
                    empty_row = place[0]
                if place[1] > empty_col:
                    empty_col = place[1]
                out.append(None)
            else:
                out.append((place, item))
        if inlines:
            texts = _inline_texts([raw for _, raw, _ in inlines], [kept for _, _, kept in inlines])
            for (at, _, _), found in zip(inlines, texts, strict=True):
                out[at] = (out[at][0], found)  # type: ignore[index]
        self.string_cells += string_cells
        self.empty_row, self.empty_col, self.lowest = empty_row, empty_col, lowest
        return out


def _inline_texts(raws: list[bytes], preserved: list[bool] | None = None) -> list[str]:
    """Inline strings' texts as `_trimmed` reads them (all unpreserved when `preserved` is
    None); the usual ones (no reference, escape, line end or "\0", no space calamine trims)
    decoded at once."""
    joined = b"\0".join(raws)
    trimmed = (
        joined
        if preserved is None
        else b"\0".join([raw for raw, kept in zip(raws, preserved, strict=True) if not kept])
    )
    if (
        joined.count(b"\0") == len(raws) - 1
        and joined.find(b"&") < 0
        and joined.find(b"\r") < 0
        and joined.find(b"_x") < 0
        and _EDGE_SPACE.search(b"\0" + trimmed + b"\0") is None
    ):
        return joined.decode().split("\0")
    if preserved is None:
        return [_trimmed(raw, False) for raw in raws]
    return [_trimmed(raw, kept) for raw, kept in zip(raws, preserved, strict=True)]


def merged(xml: bytes, opening: int, after: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The sheet's merged ranges as calamine lists them: ((first row, col), (last row, col)).
    Only for a sheet `sheet` read: its one sheetData from `opening` to `after`, checked (no
    <mergeCells> hidden in it)."""
    if (
        xml.find(b":mergeCell", after) >= 0
        or xml.find(b":mergeCell", 0, opening) >= 0
        or xml.find(b"<mergeCell", 0, opening) >= 0
    ):
        raise Unusual
    start = xml.find(b"<mergeCell", after)
    if start < 0:
        return []
    end = xml.find(b"</mergeCells>", start)
    if not xml.startswith(b"<mergeCells", start) or end < 0 or xml.find(b"<mergeCells", end) >= 0:
        raise Unusual
    # the tags between were checked by `sheet` (none hides a <mergeCells> in its quotes)
    start = xml.find(b">", start) + 1
    out = []
    for first_ref, last_ref, junk in _MERGE.findall(xml, start, end):
        if junk:
            raise Unusual
        first, last = _PLACE[first_ref], _PLACE[last_ref]
        if first[0] > last[0] or first[1] > last[1]:
            raise Unusual
        out.append((first, last))
    return out


def relationships(xml: bytes) -> list[dict[bytes, bytes]]:
    """Each <Relationship>'s attributes in order, their values as spelled; Unusual for a
    relationships part calamine would refuse or read otherwise (it reads every
    <Relationship>'s attributes, decoded)."""
    root = _root(xml, b"Relationships")
    if not xml.rstrip().endswith(b"</Relationships>") or b":Relationship" in xml:
        raise Unusual
    if _USUAL_RELATIONSHIPS.fullmatch(xml, root) is None:
        _plain_document(xml, root)  # the usual part is plain and well-formed: nothing to ask
    xml.decode()  # UnicodeDecodeError: calamine refuses it too
    usual = _USUAL_RELATIONSHIP.findall(xml)
    if len(usual) == xml.count(b"<Relationship") - 1:  # each but the root's, spelled usually
        return [{b"Id": id_, b"Type": type_, b"Target": target} for id_, type_, target in usual]
    out = []
    for attrs in _RELATIONSHIP.findall(xml):
        found = _ATTRIBUTE.findall(attrs)
        named = dict(found)
        if len(named) != len(found):
            raise Unusual  # an attribute twice: calamine refuses the file
        out.append(named)
    return out


def types(listed: list[dict[bytes, bytes]]) -> dict[bytes, bytes]:
    """Id -> Type of the relationships `relationships` read (the last of an id)."""
    return {named.get(b"Id", b""): named.get(b"Type", b"") for named in listed}


_RELATIONSHIP = re.compile(rb"<Relationship\s([^<>]*)>")
# a <Relationship> as Excel spells it: these three attributes in this order, nothing else
_USUAL_RELATIONSHIP = re.compile(
    rb'<Relationship Id="([^"<>]*)" Type="([^"<>]*)" Target="([^"<>]*)" ?/>'
)
_ATTRIBUTE = re.compile(rb'([\w.:-]+)\s*=\s*"([^"]*)"')
# a relationships part as Excel spells it, from its root on: each value printable ASCII but
# '"', "&", "'", "<" and ">", no text between the tags, white space after the root's end
# tag. Plain tags, and a document expat reads (one root, each tag closed, no reference, no
# character it refuses): what _plain_document accepts, found without asking it
_USUAL_VALUE = rb'"[ !#-%(-;=?-~]*+"'
_USUAL_RELATIONSHIPS = _possessive(
    rb"<Relationships xmlns=" + _USUAL_VALUE + rb">(?:<Relationship Id=" + _USUAL_VALUE
    + rb" Type=" + _USUAL_VALUE + rb" Target=" + _USUAL_VALUE + rb" ?/>)*+"
    rb"</Relationships>[ \t\r\n]*+"
)  # fmt: skip


def package(listed: list[dict[bytes, bytes]]) -> None:
    """Unusual unless the package's relationships (_rels/.rels, read by `relationships`)
    point calamine at xl/ for the workbook, as read.py assumes: the last officeDocument
    relationship's folder."""
    folder = None
    for found in listed:
        target = found.get(b"Target")
        if found.get(b"Type", b"").endswith(b"/relationships/officeDocument") and target:
            folder = target[: target.rfind(b"/") + 1].removeprefix(b"/")
    if folder != b"xl/":
        raise Unusual


def sheets(workbook: bytes) -> list[tuple[str, str, bytes]]:
    """(name, visibility) of every sheet in xl/workbook.xml, in order, as calamine reads
    them: names with their references resolved, visibility "visible", "hidden" or
    "very_hidden"."""
    root = _root(workbook, b"workbook")
    # the one <sheets> and the first </sheets> after it
    opened = workbook.find(b"<sheets>") + len(b"<sheets>")
    closed = workbook.find(b"</sheets>", opened)
    if (
        opened < len(b"<sheets>")
        or closed < 0
        or workbook.count(b"<sheets>") != 1
        or b"date1904" in workbook
        or b":sheet" in workbook
        or not workbook.rstrip().endswith(b"</workbook>")
    ):
        raise Unusual
    _plain_document(workbook, root)
    out = []
    workbook.decode()  # UnicodeDecodeError: calamine refuses it too (a defined name's text)
    for raw, state, rel_id, junk in _SHEET.findall(workbook, opened, closed):
        if junk or b"\t" in raw or b"\n" in raw:
            raise Unusual
        out.append((text(raw), _VISIBILITY[state], rel_id))
    if len({name for name, _, _ in out}) != len(out):
        raise Unusual
    if len(_SHEET_TAG.findall(workbook)) != len(out):
        raise Unusual  # calamine lists a <sheet> wherever it is
    return out
