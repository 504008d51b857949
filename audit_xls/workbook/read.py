"""Read one returned workbook safely: classify the bytes, refuse bombs, extract raw inputs.

Nothing here modifies the file or trusts it: the bytes are read once, hashed, checked by
their magic number and (for zips) by entry count, sizes and compression ratio before any
parser sees them, and XML parts declaring a DOCTYPE or ENTITY are refused. Then the
manifest, the cover and the checklist grid are read, which validate.py judges: an xlsx of the
usual shape by sheetxml.py from the parts the checks inflate anyway (_read_usual), anything
else by calamine after the checks, with the same result either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

import python_calamine as calamine

from audit_xls.workbook import layout, sheetxml
from audit_xls.workbook.layout import Manifest
from audit_xls.workbook.template import Template, TemplateError, load_template

# Limits checked on the zip's central directory before anything is decompressed.
MAX_ZIP_ENTRIES = 2_000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100  # for entries over RATIO_CHECK_MIN_BYTES uncompressed
RATIO_CHECK_MIN_BYTES = 1024 * 1024
# A DOCTYPE must come before the root element; this many bytes of comments is already hostile.
XML_HEAD_LIMIT = 64 * 1024
XML_HEAD_CHUNK = 1024
# calamine allocates rows x columns up to the farthest cell holding a value, before we see it:
# one value at XFD1048576 in a 5 KB file asks for 512 GB and aborts the process.
MAX_SHEET_CELLS = 1_000_000
# calamine copies a shared string into every cell that refers to it: one 1 MB string in 2,000
# cells is 2 GB. The text a sheet's cells may draw from the shared strings, in UTF-8 bytes.
MAX_SHEET_STRING_BYTES = 32 * 1024 * 1024

# What opening a damaged zip or reading its parts may raise (a negative offset in a header:
# ValueError; a made-up "version needed to extract": NotImplementedError).
_PART_ERRORS = (
    zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError
)  # fmt: skip

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"

_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# A part's usual start: an XML declaration at most, then its root element (a quick match
# before the exact walk of the prolog, _check_xml_head)
# (Excel's declaration spelled out first: the same prologs, matched in fewer steps)
_USUAL_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:(?:<\?xml version=\"1\.0\" encoding=\"UTF-8\" standalone=\"yes\"\?>"
    rb"|<\?xml[^<>]*\?>)\s*)?<[A-Za-z_]"
)
# A tag's attributes, quoted values taken whole (they may hold ">"); unrolled, so a tag
# that never closes costs one linear pass, not exponential backtracking.
_ATTRS = rb"""([^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*)"""
# An attribute as XML allows it: spaces around "=", either quote (calamine reads them all).
_EQ = rb"""\s*=\s*"""
_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row\s" + _ATTRS + rb">")
_TAG_END = (b">", b" ", b"/", b"\t", b"\n", b"\r")
_PLAIN_F = re.compile(rb"<f[\s/>]")  # a formula element without a prefix ("<f" found first)
_SHEET_ENTRY = re.compile(rb"<(?:[\w.-]+:)?sheet\s" + _ATTRS + rb">")
_ATTR = re.compile(rb"([\w:.-]+)" + _EQ + rb"""(?:"([^"]*)"|'([^']*)')""")
_REL_ENTRY = re.compile(rb"<(?:[\w.-]+:)?Relationship\s" + _ATTRS + rb">")
# Every cell and row tag, opening or closing, for calamine's positions (see _xlsx_extent).
_SHEET_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(c|row)(?=[\s/>])" + _ATTRS + rb">")
_R_VALUE = re.compile(rb"\sr" + _EQ + rb"""(?:"([^"]*)"|'([^']*)')""")
_REF_PARTS = re.compile(rb"([A-Za-z]*)([0-9]*)")
# The quick pass (see _xlsx_surely_small) may only err towards the full scan. Each pattern
# starts with a literal, which keeps the search fast: an `r` written otherwise than
# r="A1".."Z999" after a space, and an "=" spelled otherwise than `="` with no space before.
_FAR_REF = re.compile(rb'r="(?:(?<=[\t\n\r]r=")|(?<= r=")(?![A-Z]?[1-9][0-9]{0,2}"))')
_ODD_EQ = re.compile(rb"""=(?:'|\s+["']|(?<=\s=)")""")


@dataclass(frozen=True)
class ReadFailure:
    """The file could not be read as one of our workbooks; `code` keys the message catalogue."""

    code: str
    sha256: str
    params: dict[str, Any] = field(default_factory=dict)
    sheet: str = ""
    cell: str = ""
    # the manifest, when it was read before the failure (a deleted or renamed sheet): the
    # return is then matched to its site, sent back rather than listed as not returned
    manifest: Manifest | None = None


@dataclass
class RawWorkbook:
    """What a returned workbook holds, as typed, before anything is judged."""

    sha256: str
    kind: str  # "xlsx" | "xls" | "ods"
    manifest: Manifest
    manifest_visibility: str  # "visible" | "hidden" | "very_hidden"
    template: Template
    sheet_names: list[str]
    cover: dict[str, Any]  # cover field -> value in column B ("" when empty)
    grid: list[list[Any]]  # the checklist sheet from A1, row by row
    merged: list[tuple[tuple[int, int], tuple[int, int]]]  # (first, last) 0-based cells
    input_formulas: set[tuple[int, int]] | None  # input cells holding a formula; None: not known
    hidden_rows: set[int] = field(default_factory=set)  # 0-based checklist rows hidden

    def value(self, row: int, col: int) -> Any:
        if row < len(self.grid) and col < len(self.grid[row]):
            return self.grid[row][col]
        return ""

    def release(self) -> None:
        """Drop the grid once validated, so a batch's memory does not grow with its size."""
        self.grid = []
        self.cover = {}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_workbook(data: bytes, digest: str | None = None) -> RawWorkbook | ReadFailure:
    """Classify and read one returned file's bytes; never raises an Exception for bad input.

    `digest` is the bytes' sha256 when the caller has it already. A Rust panic inside the
    reader (a BaseException) is not caught here: grade reads in worker processes that survive
    it (grading/pool.py).
    """
    digest = digest or sha256(data)
    if not data:
        return ReadFailure("file.empty", digest)
    if data.startswith(OLE_MAGIC):
        failure = _check_ole(data, digest)
        if failure:
            return failure
        kind = "xls"
        entries: zipfile.ZipFile | None = None
    elif data.startswith(ZIP_MAGIC) or data.startswith(EMPTY_ZIP_MAGIC):
        # the usual xlsx read by us (every part's head checked there), its entries listed
        # as zipfile lists them; anything else, or what we decline, on zipfile's own listing
        # and read by calamine (a zip of another shape may list otherwise in calamine's zip
        # reader: a name cut at a NUL, a Unicode path field, a comment's length that lies)
        usual = _UsualZip.of(data)
        if (
            usual is not None
            and _check_entries(usual.filelist, digest) is None
            and "content.xml" not in usual.NameToInfo
        ):
            quick = _read_usual(_SheetParts(data, usual), digest)
            if quick is not None:
                return quick
        checked = _check_zip(data, digest, heads=False)
        if isinstance(checked, ReadFailure):
            return checked
        entries = checked
        kind = "ods" if "content.xml" in entries.NameToInfo else "xlsx"
        failure = _check_heads(data, entries, digest)
        if failure:
            return failure
    else:
        return ReadFailure("file.not_spreadsheet", digest, {"head": _describe_head(data)})
    parts = _sheet_scanner(data, entries, kind)
    if kind != "xlsx":  # calamine reads every sheet of these when it opens the file
        for name in parts.names():
            too_large = _check_sheet(parts, name, digest)
            if too_large:
                return too_large
    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError:
        return ReadFailure("file.encrypted", digest)
    except Exception as error:  # calamine raises several types for broken files
        return ReadFailure("file.corrupt", digest, {"error": _short(error)})
    try:
        return _extract(book, parts, kind, digest)
    except calamine.CalamineError as error:  # a part broken past the zip checks (bad deflate)
        return ReadFailure("file.corrupt", digest, {"error": _short(error)})
    finally:
        book.close()


def _read_usual(parts: _SheetParts, digest: str) -> RawWorkbook | None:
    """An xlsx of the usual shape read in one pass of our own (workbook/sheetxml.py), from
    the parts the safety checks inflate anyway; None when calamine must read it: any other
    shape, or anything the checks would refuse or the reader judge (the calamine path then
    says what), so the result is the one calamine's path gives.

    Every part read here is inflated whole, to its declared size."""
    try:
        assert parts.archive is not None
        if len(parts.archive.NameToInfo) != len(parts.archive.filelist):
            return None  # a part named twice: the checks see each, calamine the first
        workbook = parts.verified("xl/workbook.xml")
        rels = parts.verified(_WORKBOOK_RELS)
        if not workbook or not rels:
            return None
        package_rels = parts.verified("_rels/.rels")
        if not package_rels:
            return None  # calamine refuses a file without it
        # each relationships part read once: its checks, then what calamine looks up in it
        package_listed = sheetxml.relationships(package_rels)
        sheetxml.package(package_listed)
        if _folder(package_listed) != "xl/":
            return None
        rels_listed = sheetxml.relationships(rels)
        if not _usual_targets(rels_listed):
            return None
        listed = sheetxml.sheets(workbook)
        names = [name for name, _, _ in listed]
        types = sheetxml.types(rels_listed)
        if any(not types.get(rel_id, b"").endswith(b"/worksheet") for _, _, rel_id in listed):
            return None  # calamine refuses a sheet without its worksheet relationship
        # the paths _sheet_paths finds: sheets() read every <sheet> tag, each name once
        targets = _rel_targets(rels_listed, "xl/")
        parts.paths = {name: targets[rel_id] for name, _, rel_id in listed if rel_id in targets}
        for name in names:
            path = parts.path(name)
            if path is None or not path.startswith("xl/worksheets/"):
                return None
        strings_xml = parts.verified("xl/sharedStrings.xml", missing_ok=True)
        if strings_xml is False:
            return None
        strings = sheetxml.shared_strings(strings_xml)
        styles_xml = parts.verified("xl/styles.xml", missing_ok=True)
        if styles_xml is False:
            return None
        styles = sheetxml.Styles(styles_xml)
        styles.check()
        if layout.MANIFEST_SHEET not in names:
            return None
        limit = MAX_SHEET_STRING_BYTES // max(len(strings_xml or b""), 1)

        def read(name: str) -> tuple[bytes, sheetxml.Sheet] | None:
            xml = parts.verified(parts.path(name) or "")
            if not xml:
                return None
            found = sheetxml.sheet(xml, strings, styles, MAX_SHEET_CELLS)
            return None if found.string_cells > limit else (xml, found)

        manifest_sheet = read(layout.MANIFEST_SHEET)
        if manifest_sheet is None or not manifest_sheet[1].grid:
            return None
        manifest = layout.parse_manifest(manifest_sheet[1].grid)
        if manifest is None:
            return None
        template = load_template(manifest.values.get("template", ""))
        cover_name = template.sheets["cover"]
        checklist_name = template.sheets["checklist"]
        if cover_name not in names or checklist_name not in names:
            return None
        cover_sheet = read(cover_name)
        if cover_sheet is None or cover_sheet[1].lowest < -MAX_DATE_SERIAL:
            return None
        checklist_sheet = read(checklist_name)
        if checklist_sheet is None:
            return None
        xml, checklist = checklist_sheet
        merged = checklist.merged
        assert parts.archive is not None
        if _check_heads(parts.data, parts.archive, digest, parts.whole) is not None:
            return None  # the calamine path reports the first part refused
    except (sheetxml.Unusual, UnicodeDecodeError, TemplateError, OSError, ValueError):
        return None
    cover_grid = _put_errors(cover_sheet[1].grid, cover_sheet[1].errors)
    cover = {}
    for name, row in layout.COVER_ROW.items():
        values = cover_grid[row] if row < len(cover_grid) else []
        col = layout.COVER_VALUE_COL
        cover[name] = values[col] if col < len(values) else ""
    inputs = set(_INPUT_COLUMNS)
    return RawWorkbook(
        sha256=digest,
        kind="xlsx",
        manifest=manifest,
        manifest_visibility=next(v for n, v, _ in listed if n == layout.MANIFEST_SHEET),
        template=template,
        sheet_names=names,
        cover=cover,
        grid=_put_errors(checklist.grid, checklist.errors),
        merged=merged,
        input_formulas={(r, c) for r, c in checklist.formulas if c in inputs},
        hidden_rows=_hidden_rows(xml),
    )


_USUAL_TARGETS = {"sharedstrings": "sharedStrings.xml", "styles": "styles.xml"}


def _usual_targets(listed: list[dict[bytes, bytes]]) -> bool:
    """The shared strings and styles where calamine and we look for them (`listed`: the
    workbook's relationships as sheetxml.relationships reads them)."""
    for attrs in listed:
        target = attrs.get(b"Target", b"").decode("utf-8", "replace")
        folded = target.lower().removeprefix("/xl/").removesuffix(".xml")
        usual = _USUAL_TARGETS.get(folded)
        if usual is not None and target not in (usual, f"/xl/{usual}"):
            return False
        if folded not in _USUAL_TARGETS and ("sharedstrings" in folded or "styles" in folded):
            return False
    return True


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = text[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _describe_head(data: bytes) -> str:
    head = data[:16]
    if head.lstrip().startswith((b"<", b"{")) or _is_text(data[:64]):
        return "text"
    return head[:8].hex(" ")


def _is_text(head: bytes) -> bool:
    """Printable UTF-8 or GBK (a CSV or note renamed .xlsx), allowing a character cut at the end."""
    for encoding in ("utf-8", "gbk"):
        for cut in range(3):
            try:
                text = head[: len(head) - cut].decode(encoding)
            except UnicodeDecodeError:
                continue
            return all(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return False


def _check_ole(data: bytes, digest: str) -> ReadFailure | None:
    """OLE compound files are legacy .xls or password-protected Office files."""
    try:
        import msoffcrypto

        if msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted():
            return ReadFailure("file.encrypted", digest)
    except Exception as error:  # not an Office OLE file msoffcrypto knows: let calamine try
        if "encrypt" in str(error).lower():
            return ReadFailure("file.encrypted", digest)
    return None


def _check_zip(data: bytes, digest: str, heads: bool = True) -> zipfile.ZipFile | ReadFailure:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.LargeZipFile, *_PART_ERRORS) as error:  # "zip file version 12.8" too
        return ReadFailure("file.corrupt", digest, {"error": _short(error)})
    failure = _check_entries(infos, digest)
    if failure:
        return failure
    ambiguous = _ambiguous_name(infos)
    if ambiguous is not None:
        error = f"BadZipFile: a part named twice or ambiguously: {ambiguous!r}"
        return ReadFailure("file.corrupt", digest, {"error": error[:200]})
    if heads:
        failure = _check_heads(data, archive, digest)
        if failure:
            return failure
    return archive


def _check_entries(infos: list[Any], digest: str) -> ReadFailure | None:
    """The limits on a zip's entries: their number, total size and compression ratio."""
    if len(infos) > MAX_ZIP_ENTRIES:
        return ReadFailure(
            "file.too_many_entries", digest, {"entries": len(infos), "limit": MAX_ZIP_ENTRIES}
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        return ReadFailure(
            "file.too_large",
            digest,
            {"size_mb": round(total / 2**20), "limit_mb": MAX_UNCOMPRESSED_BYTES // 2**20},
        )
    for info in infos:
        if info.file_size > RATIO_CHECK_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            return ReadFailure(
                "file.compression_ratio",
                digest,
                {
                    "entry": info.filename,
                    "ratio": info.file_size // max(info.compress_size, 1),
                    "limit": MAX_COMPRESSION_RATIO,
                },
            )
    return None


def _ambiguous_name(infos: list[zipfile.ZipInfo]) -> str | None:
    """A part whose name calamine's zip reader may take otherwise than zipfile, so that the
    checks would look at another part than calamine reads (a far cell there aborts it): two
    names alike in calamine's lookup (ASCII letters in any case, "\\" for "/": calamine opens
    the last, of a name twice the last), a name zipfile cuts at a NUL, one with a Unicode path
    field (calamine takes the name from it); a name in UTF-8 without the UTF-8 flag compared
    as calamine reads it (zipfile reads it as cp437)."""
    seen = set()
    for info in infos:
        name = info.orig_filename
        if "\0" in name or (_UNICODE_PATH in info.extra and _has_field(info.extra, 0x7075)):
            return name
        if not name.isascii() and not info.flag_bits & 0x800:
            with contextlib.suppress(UnicodeError):
                name = name.encode("cp437").decode("utf-8")  # as calamine's reader names it
        key = _ascii_fold(name.replace("\\", "/"))
        if key in seen:
            return info.orig_filename
        seen.add(key)
    return None


_UNICODE_PATH = b"up"  # the Unicode path extra field's tag (0x7075), little-endian


def _has_field(extra: bytes, kind: int) -> bool:
    while len(extra) >= 4:
        tag, length = struct.unpack_from("<HH", extra)
        if tag == kind:
            return True
        extra = extra[length + 4 :]
    return False


class _Entry:
    """A central directory entry: the fields of zipfile.ZipInfo read here."""

    __slots__ = ("CRC", "compress_size", "compress_type", "file_size", "filename", "flag_bits",
                 "header_offset")  # fmt: skip


# the central directory's end record and one of its entries (zipfile's structEndArchive and
# structCentralDir): sizes, offsets, flags and lengths
_END = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s2xBx2H4x3L3H8xL")
_ZIP64_LOCATOR = b"PK\x06\x07"


class _UsualZip:
    """The entries of a zip of the usual shape, as zipfile.ZipFile lists them, without
    making ZipInfo objects (half the cost): a central directory right before an end record
    closing the file (no comment, nothing before or between), its entry counts and disk
    numbers as calamine's zip reader needs them (it reads as many entries as counted on this
    disk), no extra field (zip64, a Unicode path; calamine's reader refuses some others
    zipfile takes), names decoding, without NUL, in ASCII unless flagged UTF-8 (calamine
    reads unflagged UTF-8 as UTF-8, zipfile as cp437) and not alike in any ASCII case or
    with "\\" for "/" (calamine opens the last of those). `of` gives None for any other zip;
    read() and open() (for parts the quick read cannot locate itself) go to zipfile, which
    lists the same."""

    def __init__(self, data: bytes, filelist: list[_Entry]):
        self.data = data
        self.filelist = filelist
        self.NameToInfo = {entry.filename: entry for entry in filelist}
        self._archive: zipfile.ZipFile | None = None

    @classmethod
    def of(cls, data: bytes) -> _UsualZip | None:
        end = len(data) - _END.size
        if end < 64 or data[end - 20 : end - 16] == _ZIP64_LOCATOR:
            return None
        (signature, disk, directory_disk, counted, total, directory_size, directory,
         comment) = _END.unpack_from(data, end)  # fmt: skip
        if signature != b"PK\x05\x06" or comment or directory + directory_size != end:
            return None
        if disk or directory_disk or counted != total:
            return None
        entries = []
        unpack = _CENTRAL.unpack_from
        at = directory
        while at < end:
            if at + _CENTRAL.size > end or len(entries) == MAX_ZIP_ENTRIES:
                return None  # past the limit: zipfile's listing is refused by its count
            (signature, version, flags, method, crc, compressed, size, name_length, extra_length,
             comment_length, header_offset) = unpack(data, at)  # fmt: skip
            at += _CENTRAL.size
            name_end = at + name_length
            extra_end = name_end + extra_length
            if signature != b"PK\x01\x02" or version > zipfile.MAX_EXTRACT_VERSION:
                return None
            if extra_length or extra_end + comment_length > end:
                return None
            raw = data[at:name_end]
            if not (flags & 0x800 or raw.isascii()):
                return None
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                return None
            if "\0" in name or (os.sep != "/" and os.sep in name):
                return None  # zipfile.ZipInfo cuts or rewrites such a name
            entry = _Entry()
            entry.filename, entry.flag_bits, entry.compress_type = name, flags, method
            entry.CRC = crc
            entry.compress_size, entry.file_size = compressed, size
            entry.header_offset = header_offset
            entries.append(entry)
            at = extra_end + comment_length
        if counted != len(entries):
            return None
        if len({_ascii_fold(entry.filename.replace("\\", "/")) for entry in entries}) != counted:
            return None  # names alike to calamine: zipfile's listing, where they are refused
        return cls(data, entries)

    def infolist(self) -> list[_Entry]:
        return self.filelist

    def _zipfile(self) -> zipfile.ZipFile:
        if self._archive is None:
            self._archive = zipfile.ZipFile(io.BytesIO(self.data))
        return self._archive

    def read(self, info: _Entry) -> bytes:
        archive = self._zipfile()
        return archive.read(archive.NameToInfo[info.filename])

    def open(self, info: _Entry) -> IO[bytes]:
        archive = self._zipfile()
        return archive.open(archive.NameToInfo[info.filename])


def _check_heads(
    data: bytes,
    archive: zipfile.ZipFile | _UsualZip,
    digest: str,
    read: dict[str, bytes] | None = None,
) -> ReadFailure | None:
    """The DOCTYPE check of every part (rels may point a sheet at any name), in the archive's
    order; parts in `read` (already inflated whole) are checked from those bytes."""
    usual = _USUAL_PROLOG.match
    for info in archive.infolist():
        if not info.file_size:
            continue
        whole = read.get(info.filename) if read else None
        if whole is not None:
            head: bytes | memoryview | None = whole
        else:
            head = _raw_part(data, info)
            if head is not None and info.compress_type == zipfile.ZIP_DEFLATED:
                try:
                    head = zlib.decompressobj(-zlib.MAX_WBITS).decompress(head, XML_HEAD_CHUNK)
                except zlib.error:
                    head = None  # the full check reports it
        if head is not None and usual(head, 0, XML_HEAD_CHUNK):
            continue  # the usual prolog, then the root element: nothing can declare entities
        failure = _check_xml_head(data, archive, info, digest, whole)
        if failure:
            return failure
    return None


def _check_xml_head(
    data: bytes,
    archive: zipfile.ZipFile | _UsualZip,
    info: zipfile.ZipInfo | _Entry,
    digest: str,
    whole: bytes | None = None,
) -> ReadFailure | None:
    """Refuse a DOCTYPE/ENTITY before the root element (entity expansion bombs).

    One pass over the prolog, resuming where the last chunk stopped: an unterminated comment
    costs one search for "-->" per chunk, never a rescan of the whole head.
    """
    named_xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
    pos = 0  # the prolog before pos is read: declarations, comments, whitespace
    searched = 0  # where the search for the end of the open comment or PI at pos goes on
    try:
        heads = _xml_heads(data, archive, info) if whole is None else (whole[:XML_HEAD_LIMIT],)
        for head in heads:
            if not named_xml and pos == 0:
                start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
                if not start:
                    continue
                if not start.startswith(b"<"):
                    return None  # not XML: an image or binary part calamine does not parse
                named_xml = True
            while (lt := head.find(b"<", pos)) >= 0:
                if head.startswith(b"<!--", lt):
                    opener, close = 4, b"-->"
                elif head.startswith(b"<?", lt):
                    opener, close = 2, b"?>"
                elif len(head) - lt < len(b"<!DOCTYPE") and b"<!".startswith(head[lt : lt + 2]):
                    pos = lt
                    break  # wait for the next chunk to name the declaration
                elif head.startswith(b"<!", lt):
                    if _DOCTYPE.match(head, lt):
                        return ReadFailure("file.xml_doctype", digest, {"entry": info.filename})
                    pos = lt + 2
                    continue
                else:
                    return None  # root element reached: nothing after it can declare entities
                end = head.find(close, max(lt + opener, searched))
                if end < 0:
                    pos, searched = lt, max(lt + opener, len(head) - len(close) + 1)
                    break  # wait for the next chunk
                pos, searched = end + len(close), 0
            else:
                pos = len(head)
            if len(head) >= XML_HEAD_LIMIT:
                break
        else:
            return None  # the whole part is a prolog without a root: calamine judges it
    except _PART_ERRORS as error:
        return ReadFailure("file.corrupt", digest, {"error": _short(error)})
    return ReadFailure("file.xml_doctype", digest, {"entry": info.filename})


# a local file header: its signature, flags, and the lengths of the name and extra field
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")


def _raw_part(data: bytes, info: zipfile.ZipInfo | _Entry) -> memoryview | None:
    """A part's stored bytes, located by its local header; None when zipfile must do it."""
    start = info.header_offset
    local = data[start : start + 30]
    # zipfile's own path for other methods and encrypted parts: it raises, the file is corrupt.
    # Sizes and CRCs are not checked here; calamine checks them when it reads the part.
    if (
        info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        or info.flag_bits & 0x1
        or len(local) < 30
    ):
        return None
    signature, flags, name_length, extra_length = _LOCAL_HEADER.unpack(local)
    if signature != b"PK\x03\x04" or flags & 0x1:
        return None
    begin = start + 30 + name_length + extra_length
    return memoryview(data)[begin : begin + info.compress_size]


def _read_part(
    data: bytes,
    archive: zipfile.ZipFile | _UsualZip,
    info: zipfile.ZipInfo | _Entry,
    whole: bool = False,
) -> bytes:
    """A whole part, inflated straight from the file's bytes (zipfile's own path is slower).
    `whole`: zlib.error unless its deflate stream ends (calamine's zip reader fails a part
    whose stream is cut short when it reads it to its end, even if all its bytes came out)."""
    raw = _raw_part(data, info)
    if raw is None:
        return archive.read(info)
    if info.compress_type == zipfile.ZIP_STORED:
        return bytes(raw)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = inflater.decompress(raw, info.file_size + 1)  # sizes were checked; never more
    if whole and not inflater.eof:
        raise zlib.error("incomplete deflate stream")
    return out


def _xml_heads(
    data: bytes, archive: zipfile.ZipFile | _UsualZip, info: zipfile.ZipInfo | _Entry
) -> Iterator[bytes]:
    """Ever longer starts of a zip part, XML_HEAD_CHUNK more each time.

    Inflates straight from the file's bytes: opening every part through zipfile costs more
    than the check itself.
    """
    raw = _raw_part(data, info)
    if raw is None:
        yield from _xml_heads_via_zipfile(archive, info)
        return
    if info.compress_type == zipfile.ZIP_STORED:
        for end in range(XML_HEAD_CHUNK, XML_HEAD_LIMIT + XML_HEAD_CHUNK, XML_HEAD_CHUNK):
            yield bytes(raw[:end])
            if end >= len(raw):
                return
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    head = b""
    pending = raw
    while True:
        chunk = inflater.decompress(pending, XML_HEAD_CHUNK)
        pending = inflater.unconsumed_tail
        if not chunk:
            if not pending or inflater.eof:
                return
            continue
        head += chunk
        yield head


def _xml_heads_via_zipfile(
    archive: zipfile.ZipFile | _UsualZip, info: zipfile.ZipInfo | _Entry
) -> Iterator[bytes]:
    with archive.open(info) as part:
        head = b""
        while chunk := part.read(XML_HEAD_CHUNK):
            head += chunk
            yield head


def _renamed_manifest(
    book: calamine.CalamineWorkbook,
    parts: _SheetParts | _OdsTables | _XlsSheets,
    names: list[str],
    digest: str,
) -> Manifest | None:
    """The manifest under another name (a supervisor unhid and renamed it): a sheet whose
    content is one of our manifests, hidden sheets looked at first, each checked before it is
    read like any sheet (only on this path: a workbook that has lost its manifest)."""
    for name in sorted(names, key=lambda n: _visibility(book, n) == "visible"):
        if _check_sheet(parts, name, digest):
            continue
        grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        manifest = layout.parse_manifest(grid) if grid else None
        if manifest is not None:
            return manifest
    return None


def _visibility(book: calamine.CalamineWorkbook, name: str) -> str:
    for meta in book.sheets_metadata:
        if meta.name == name:
            if meta.visible == calamine.SheetVisibleEnum.Visible:
                return "visible"
            if meta.visible == calamine.SheetVisibleEnum.Hidden:
                return "hidden"
            return "very_hidden"
    return "visible"


def _extract(
    book: calamine.CalamineWorkbook,
    parts: _SheetParts | _OdsTables | _XlsSheets,
    kind: str,
    digest: str,
) -> RawWorkbook | ReadFailure:
    names = list(book.sheet_names)
    if layout.MANIFEST_SHEET not in names:
        renamed = _renamed_manifest(book, parts, names, digest)
        if renamed is not None:  # the issued workbook with its manifest renamed: sent back
            return ReadFailure(
                "sheet.missing", digest, {"name": layout.MANIFEST_SHEET, "sheets": names},
                layout.MANIFEST_SHEET, manifest=renamed,
            )  # fmt: skip
        return ReadFailure("manifest.missing", digest, {"sheets": names})
    too_large = _check_sheet(parts, layout.MANIFEST_SHEET, digest)
    if too_large:
        return too_large
    manifest_grid = book.get_sheet_by_name(layout.MANIFEST_SHEET).to_python(skip_empty_area=False)
    manifest = layout.parse_manifest(manifest_grid) if manifest_grid else None
    if manifest is None:
        return ReadFailure("manifest.foreign", digest, sheet=layout.MANIFEST_SHEET)
    template_name = manifest.values.get("template", "")
    try:
        template = load_template(template_name)
    except (TemplateError, OSError, ValueError):
        return ReadFailure(
            "manifest.unknown_template", digest, {"template": template_name}, layout.MANIFEST_SHEET
        )
    checklist_name = template.sheets["checklist"]
    cover_name = template.sheets["cover"]
    for sheet in (cover_name, checklist_name):
        if sheet not in names:
            return ReadFailure(
                "sheet.missing", digest, {"name": sheet, "sheets": names}, sheet,
                manifest=manifest,
            )  # fmt: skip
        too_large = _check_sheet(parts, sheet, digest, dates=sheet == cover_name)
        if too_large:
            return too_large
    cover_sheet = book.get_sheet_by_name(cover_name)
    cover_grid = _with_errors(cover_sheet.to_python(skip_empty_area=False), parts, cover_name)
    cover = {}
    for name, row in layout.COVER_ROW.items():
        values = cover_grid[row] if row < len(cover_grid) else []
        col = layout.COVER_VALUE_COL
        cover[name] = values[col] if col < len(values) else ""
    checklist = book.get_sheet_by_name(checklist_name)
    grid = _with_errors(checklist.to_python(skip_empty_area=False), parts, checklist_name)
    merged = [tuple(r) for r in (checklist.merged_cell_ranges or [])]
    input_formulas, hidden_rows = parts.inputs(checklist_name)
    return RawWorkbook(
        sha256=digest,
        kind=kind,
        manifest=manifest,
        manifest_visibility=_visibility(book, layout.MANIFEST_SHEET),
        template=template,
        sheet_names=names,
        cover=cover,
        grid=grid,
        merged=merged,  # type: ignore[arg-type]
        input_formulas=input_formulas,
        hidden_rows=hidden_rows,
    )


def _with_errors(
    grid: list[list[Any]], parts: _SheetParts | _OdsTables | _XlsSheets, sheet: str
) -> list[list[Any]]:
    return _put_errors(grid, parts.errors(sheet))


def _put_errors(grid: list[list[Any]], errors: dict[tuple[int, int], str]) -> list[list[Any]]:
    """calamine reads an error cell (#N/A, #DIV/0!) as "": put the error's text back, so it is
    judged (and quoted) as what the cell shows, never taken for a blank."""
    for (r, c), text in errors.items():
        if r < len(grid) and c < len(grid[r]) and grid[r][c] == "":
            grid[r][c] = text
    return grid


Extent = tuple[int, int]  # (rows, columns) from A1 to the farthest filled cell
Inputs = tuple[set[tuple[int, int]] | None, set[int]]  # (input formulas or None, hidden rows)


def _sheet_scanner(
    data: bytes, archive: zipfile.ZipFile | None, kind: str
) -> _SheetParts | _OdsTables | _XlsSheets:
    """The reader of sheets by hand for this kind of file, below calamine's view of it."""
    if kind == "xls":
        return _XlsSheets(data)
    if kind == "ods" and archive is not None:
        return _OdsTables(data, archive)
    return _SheetParts(data, archive)


class _SheetParts:
    """The xlsx sheet parts read by hand (extent, strings, formula and error scan), each
    located as calamine locates it and inflated once."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile | _UsualZip | None):
        self.data = data
        self.archive = archive
        # sheet name -> part, as calamine resolves it (found by path(), or by the quick read)
        self.paths: dict[str, str] | None = None
        self._xml: dict[str, bytes | None] = {}
        self._errors: dict[str, str] = {}  # part -> why it could not be read
        self._scans: dict[str, _XlsxScan] = {}
        self._folded: dict[bytes | str, zipfile.ZipInfo] | None = None
        self.whole: dict[str, bytes] = {}  # part name -> bytes matching its CRC (verified)

    def _info(self, path: str) -> zipfile.ZipInfo | None:
        """The part calamine opens for `path`: the first whose name matches in any ASCII case."""
        assert self.archive is not None
        if self._folded is None:
            self._folded = {}
            for info in self.archive.infolist():  # the first in the archive's order wins
                self._folded.setdefault(_ascii_fold(info.filename), info)
        return self._folded.get(_ascii_fold(path))

    def read(
        self, path: str, info: zipfile.ZipInfo | _Entry | None = None, whole: bool = False
    ) -> bytes | None:
        """The part calamine opens for `path` (`info`, when found already), inflated (its
        deflate stream ended, if `whole`)."""
        if self.archive is None:
            return None
        if path not in self._xml:
            info = info or self._info(path)
            if info is None:
                self._xml[path] = None
                self._errors[path] = _NOT_FOUND
                return None
            try:
                self._xml[path] = _read_part(self.data, self.archive, info, whole)
            except _PART_ERRORS as error:
                self._xml[path] = None
                self._errors[path] = _short(error)
        return self._xml[path]

    def verified(self, path: str, missing_ok: bool = False) -> Any:
        """A part inflated whole to its declared size and matching its CRC; None when it is
        missing (unless `missing_ok`) and False when it is broken, of another size or CRC, or
        compressed otherwise than stored or deflated, or its deflate stream cut short
        (calamine's zip reader refuses bzip2 and lzma, which zipfile reads; it checks the CRC
        and the stream's end when it reads a part to its end, which it does for some parts
        and not others)."""
        if self.archive is None:
            return None
        info = self._info(path)
        if info is None:
            return None if missing_ok else False
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return False
        xml = self.read(path, info, whole=True)
        if xml is None or len(xml) != info.file_size or zlib.crc32(xml) != info.CRC:
            return False
        self.whole[info.filename] = xml
        return xml

    def folder(self) -> str:
        """The workbook's folder as calamine finds it: the last officeDocument relationship
        of _rels/.rels ("xl/" without one; calamine refuses that file). A shadow workbook in
        another folder is what calamine reads, so it is what is checked."""
        rels = self.read("_rels/.rels") or b""
        return _folder([_attrs(tag) for tag in _REL_ENTRY.findall(rels)])

    def path(self, sheet_name: str) -> str | None:
        if self.paths is None:
            folder = self.folder()
            self.paths = _sheet_paths(
                self.read(f"{folder}workbook.xml"),
                self.read(f"{folder}_rels/workbook.xml.rels"),
                folder,
            )
        return self.paths.get(sheet_name)

    def xml(self, sheet_name: str) -> bytes | None:
        """The sheet's XML; None when the part cannot be located or read."""
        if self.archive is None:
            return None
        path = self.path(sheet_name)
        return None if path is None else self.read(path)

    def unreadable(self, sheet_name: str) -> str | None:
        """Why the sheet's part cannot be checked (None when it can)."""
        if self.archive is None:
            return _NOT_FOUND
        path = self.path(sheet_name)
        if path is None:
            return _NOT_FOUND
        self.read(path)
        return self._errors.get(path)

    def names(self) -> list[str]:
        return []  # calamine reads an xlsx sheet when asked: only ours are checked

    def scan(self, sheet_name: str) -> _XlsxScan | None:
        found = self._scans.get(sheet_name)
        if found is None:
            xml = self.xml(sheet_name)
            if xml is None:
                return None
            found = self._scans[sheet_name] = _XlsxScan(xml)
        return found

    def extent(self, sheet_name: str) -> Extent | None:
        """The farthest filled cell; None when the sheet cannot be read (refused before)."""
        scan = self.scan(sheet_name)
        return None if scan is None else scan.extent()

    def string_bytes(self, sheet_name: str) -> int:
        """At most how many bytes of shared strings the sheet's cells copy (0: surely few)."""
        scan = self.scan(sheet_name)
        strings = self.read(f"{self.folder()}sharedStrings.xml")
        if scan is None or not strings:
            return 0
        if scan.cell_tags * len(strings) <= MAX_SHEET_STRING_BYTES:
            return 0  # even if every cell held the whole table: the usual case, by counts alone
        return scan.string_bytes(_shared_string_sizes(strings))

    def inputs(self, sheet_name: str) -> Inputs:
        scan = self.scan(sheet_name)
        return (None, set()) if scan is None else (scan.input_formulas(), scan.hidden_rows())

    def errors(self, sheet_name: str) -> dict[tuple[int, int], str]:
        scan = self.scan(sheet_name)
        return {} if scan is None else scan.errors()

    def far_negative(self, sheet_name: str) -> tuple[int, int, str] | None:
        scan = self.scan(sheet_name)
        return None if scan is None else scan.far_negative()


_NOT_FOUND = "not found"


def _ascii_fold(name: str) -> bytes | str:
    """A part name compared as calamine compares it: ASCII letters in any case."""
    if name.isascii():
        return name.lower()  # the usual name: str.lower of ASCII changes ASCII letters only
    return name.encode("utf-8", "surrogateescape").lower()


def _check_sheet(
    parts: _SheetParts | _OdsTables | _XlsSheets, sheet_name: str, digest: str, dates: bool = False
) -> ReadFailure | None:
    """Before calamine reads a sheet: it can be located and checked, its grid is not huge, and
    its cells do not copy too much shared text. A sheet that cannot be checked is not read."""
    if isinstance(parts, _SheetParts):
        why = parts.unreadable(sheet_name)
        if why == _NOT_FOUND:
            part = parts.path(sheet_name) or "-"
            return ReadFailure(
                "file.sheet_unchecked", digest, {"name": sheet_name, "part": part}, sheet_name
            )
        if why is not None:  # the part is there but broken (a bad deflate stream)
            return ReadFailure("file.corrupt", digest, {"error": why})
    too_large = _check_extent(parts, sheet_name, digest)
    if too_large or not isinstance(parts, _SheetParts):
        return too_large
    # a number calamine cannot date: refused with its cell where a date is typed (the cover);
    # elsewhere the reader's panic is caught by its worker process (file.reader_failed)
    negative = parts.far_negative(sheet_name) if dates else None
    if negative is not None:
        row, col, text = negative
        where = layout.cell(row, col)
        return ReadFailure(
            "cell.number_out_of_range", digest, {"name": sheet_name, "ref": where,
            "found": text[:40]}, sheet_name, where,
        )  # fmt: skip
    copied = parts.string_bytes(sheet_name)
    if copied > MAX_SHEET_STRING_BYTES:
        return ReadFailure(
            "file.strings_too_large",
            digest,
            {"name": sheet_name, "size_mb": copied >> 20,
             "limit_mb": MAX_SHEET_STRING_BYTES >> 20},
            sheet_name,
        )  # fmt: skip
    return None


def _check_extent(
    parts: _SheetParts | _OdsTables | _XlsSheets, sheet_name: str, digest: str
) -> ReadFailure | None:
    """Refuse a sheet whose farthest filled cell would make calamine's grid too big."""
    extent = parts.extent(sheet_name)
    if extent is None or extent[0] * extent[1] <= MAX_SHEET_CELLS:
        return None
    last_row, last_col = extent
    corner = layout.cell(last_row - 1, last_col - 1)
    params = {"name": sheet_name, "corner": corner, "rows": last_row, "cols": last_col}
    return ReadFailure(
        "file.sheet_too_large", digest, {**params, "limit": MAX_SHEET_CELLS}, sheet_name, corner
    )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


_HUGE = 1 << 40  # a row or column past anything a sheet can hold


def _xlsx_ref(value: bytes) -> tuple[int, int]:
    """0-based (row, column) of a reference as calamine reads it: letters in any case, then
    digits with any leading zeros; a part missing counts as 0 (calamine refuses the cell)."""
    letters, digits = _REF_PARTS.match(value).groups()  # type: ignore[union-attr]
    digits = digits.lstrip(b"0")
    row = int(digits or b"0") - 1 if len(digits) <= 12 else _HUGE
    col = _column_number(letters) - 1 if len(letters) <= 8 else _HUGE
    return max(row, 0), max(col, 0)


def _xlsx_surely_small(xml: bytes, cell_tags: int) -> bool:
    """True when no cell can lie past MAX_SHEET_CELLS, by counts alone (never by text).

    With every `r` near (A1..Z999), a cell without `r` lies at most one column per cell tag
    right of column Z and one row per row tag below row 999; "<c", ":c" and "row" occur at
    least once in each such tag, however prefixed or spaced.
    """
    if _FAR_REF.search(xml) or _ODD_EQ.search(xml):
        return False
    return (999 + xml.count(b"row")) * (26 + cell_tags) <= MAX_SHEET_CELLS


def _xlsx_walk(xml: bytes) -> Iterator[tuple[bool, int, int, bytes, int]]:
    """Rows and cells with content, placed as calamine places cells: (a cell, row, column,
    attributes, where the tag ends); a row is given with column 0.

    A cell without `r` sits right of the previous cell of its row; a row without `r` below
    the previous one (a self-closing <row/> counts too); a cell's own `r` wins over its row.
    Rows are given when they have content and their own `r`.
    """
    row_index = col_index = 0
    for match in _SHEET_TAG.finditer(xml):
        closing, name, attrs = match.groups()
        if name == b"row":
            if closing or attrs.endswith(b"/"):
                row_index, col_index = row_index + 1, 0
                continue
            ref = _R_VALUE.search(attrs)
            if ref:
                row_index = _xlsx_ref(b"A" + (ref.group(1) or ref.group(2) or b""))[0]
                yield False, row_index, 0, attrs, match.end()
        elif not closing:
            ref = _R_VALUE.search(attrs)
            if ref:
                row, col_index = _xlsx_ref(ref.group(1) or ref.group(2) or b"")
            else:
                row = row_index
            if not attrs.endswith(b"/"):
                yield True, row, col_index, attrs, match.end()
            col_index += 1


def _xlsx_extent(xml: bytes) -> Extent:
    """The farthest filled cell, placed as calamine places cells (_xlsx_walk).

    Any cell element with content counts as filled, and so does a row with content and its own
    `r`: erring large costs a refusal, erring small lets calamine abort the process.
    """
    rows = cols = 0
    for is_cell, row, col, _, _ in _xlsx_walk(xml):
        rows, cols = max(rows, row + 1), max(cols, col + 1)
        if is_cell and rows * cols > MAX_SHEET_CELLS:
            break  # already refused (at this cell, the corner named): the rest is not needed
    return rows, cols


def _xlsx_cells(xml: bytes) -> Iterator[tuple[int, int, bytes, int, int]]:
    """Every cell element with content: (row, column, attributes, content start, content end),
    placed as calamine places cells (_xlsx_walk). Only for sheets already bounded."""
    for is_cell, row, col, attrs, begin in _xlsx_walk(xml):
        if is_cell:
            close = _CELL_CLOSE.search(xml, begin)
            yield row, col, attrs, begin, close.start() if close else len(xml)


# A formula element (any prefix), a cell's closing tag, a cell's type, its value's text.
_F_TAG = re.compile(rb"<(?:[\w.-]+:)?f[\s/>]")
_PREFIXED_F = re.compile(rb":f[\s/>]")
_CELL_CLOSE = re.compile(rb"</(?:[\w.-]+:)?c\s*>")
_T_VALUE = re.compile(rb"\st" + _EQ + rb"""(?:"([^"]*)"|'([^']*)')""")
_V_TEXT = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>([^<]*)<")
# A value starting with a minus, however spaced ("v" starts the pattern: a quick search).
_NEGATIVE_VALUE = re.compile(rb"v(?:\s[^<>]*)?>\s*-")
# A formula right after its cell's tag as Excel and LibreOffice write it: <c r="I4" ...><f>.
_CANONICAL_FORMULA = re.compile(rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"[^>]*>\s*<f[\s/>]')

# calamine panics converting a date-formatted number below this (chrono's range in ms).
MAX_DATE_SERIAL = 1e10
_SI_TAG = re.compile(rb"<(?:[\w.-]+:)?si(?=[\s/>])")


class _XlsxScan:
    """One xlsx sheet's XML, looked at as calamine will read it; each answer worked out once."""

    def __init__(self, xml: bytes):
        self.xml = xml
        self.cell_tags = xml.count(b"<c") + xml.count(b":c")  # at least one per cell
        self._cells: list[tuple[int, int, bytes, int, int]] | None = None

    def cells(self) -> list[tuple[int, int, bytes, int, int]]:
        if self._cells is None:
            self._cells = list(_xlsx_cells(self.xml))
        return self._cells

    def extent(self) -> Extent | None:
        if _xlsx_surely_small(self.xml, self.cell_tags):
            return None  # the usual case, found in a few quick passes
        return _xlsx_extent(self.xml)

    def string_bytes(self, sizes: list[int]) -> int:
        """Bytes of shared strings the cells copy, each charged as the largest it may be."""
        total = 0
        xml = self.xml
        for _, _, attrs, begin, end in self.cells():
            kind = _T_VALUE.search(attrs)
            if kind is None or (kind.group(1) or kind.group(2) or b"").strip() != b"s":
                continue
            value = _V_TEXT.search(xml, begin, end)
            digits = value.group(1).strip() if value else b""
            if digits.isdigit() and len(digits) <= 9 and int(digits) < len(sizes):
                total += sizes[int(digits)]
        return total

    def input_formulas(self) -> set[tuple[int, int]]:
        """Input cells holding a formula, in any spelling (prefixes, cells without `r`)."""
        xml = self.xml
        if _PREFIXED_F.search(xml) is None:
            found = self._formulas_by_ref()
            if found is not None:
                return found
        return {
            (r, c)
            for r, c, _, begin, end in self.cells()
            if c in _INPUT_COLUMNS and _F_TAG.search(xml, begin, end)
        }

    def _formulas_by_ref(self) -> set[tuple[int, int]] | None:
        """The quick way, exact or None: when every formula element follows its cell's tag
        spelled as Excel and LibreOffice write it (`<c r="I4" ...><f>`), one search finds
        them all with their cells; otherwise (another spelling, a cell without `r`, a
        formula after the value) every cell is placed by counting instead."""
        xml = self.xml
        formulas = len(_PLAIN_F.findall(xml))
        found = set()
        seen = 0
        for match in _CANONICAL_FORMULA.finditer(xml):
            seen += 1
            col = _INPUT_LETTER_COLUMN.get(match.group(1))
            if col is not None:
                found.add((int(match.group(2)) - 1, col))
        return found if seen == formulas else None

    def hidden_rows(self) -> set[int]:
        return _hidden_rows(self.xml)

    def far_negative(self) -> tuple[int, int, str] | None:
        """The first number calamine cannot turn into a date without a panic (below about
        -1e11 days, or -inf), as (row, column, text); None when there is none.

        Found by counts first: a value starting with "-" is rare in a return."""
        xml = self.xml
        if _NEGATIVE_VALUE.search(xml) is None:
            return None
        for r, c, attrs, begin, end in self.cells():
            kind = _T_VALUE.search(attrs)
            if kind is not None and (kind.group(1) or kind.group(2) or b"") not in (b"n", b""):
                continue
            value = _V_TEXT.search(xml, begin, end)
            text = value.group(1).strip() if value else b""
            if not text.startswith(b"-") or len(text) > 400:
                continue
            try:
                number = float(text)
            except ValueError:
                continue
            if number < -MAX_DATE_SERIAL:
                return r, c, text.decode("ascii", "replace")
        return None

    def errors(self) -> dict[tuple[int, int], str]:
        """Error cells (t="e": #N/A, #DIV/0!...) -> their text; calamine reads them as ""."""
        xml = self.xml
        if b'"e"' not in xml and b"'e'" not in xml:
            return {}  # calamine reads t="e" exactly (any other spelling fails the file)
        out = {}
        for r, c, attrs, begin, end in self.cells():
            kind = _T_VALUE.search(attrs)
            if kind is not None and (kind.group(1) or kind.group(2) or b"").strip() == b"e":
                value = _V_TEXT.search(xml, begin, end)
                text = value.group(1).strip().decode("utf-8", "replace") if value else ""
                out[(r, c)] = text or "#N/A"
        return out


def _hidden_rows(xml: bytes) -> set[int]:
    """0-based rows hidden (a row tag with hidden="1" or "true" and its number)."""
    hidden = set()
    if b"hidden" in xml:
        for tag in _ROW_TAG.findall(xml):
            attrs = _attrs(tag)
            if (
                attrs.get(b"hidden") in (b"1", b"true")
                and attrs.get(b"r", b"").isdigit()
                and len(attrs[b"r"]) <= 9
            ):
                hidden.add(int(attrs[b"r"]) - 1)
    return hidden


def _scan_sheet_xml(xml: bytes) -> tuple[set[tuple[int, int]], set[int]]:
    """Input formulas and hidden rows of one sheet's XML."""
    scan = _XlsxScan(xml)
    return scan.input_formulas(), scan.hidden_rows()


def _shared_string_sizes(strings: bytes) -> list[int]:
    """For each index a cell may name, the largest shared string it can stand for, in bytes.

    calamine drops an <si> without text, so index i may be any item from the i-th on: each is
    charged the largest item at or after it (the XML's length, an upper bound of its text).
    """
    starts = [m.start() for m in _SI_TAG.finditer(strings)]
    sizes = [b - a for a, b in zip(starts, [*starts[1:], len(strings)], strict=True)]
    for i in range(len(sizes) - 2, -1, -1):
        sizes[i] = max(sizes[i], sizes[i + 1])
    return sizes


_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHEET_RID = (b"r:id", b"relationships:id")  # the only spellings calamine reads


def _sheet_paths(workbook: bytes | None, rels: bytes | None, folder: str = "xl/") -> dict[str, str]:
    """Sheet name -> part path, from xl/workbook.xml and its relationships, as calamine
    resolves them (the first sheet of a name, the last relationship of an id)."""
    if workbook is None or rels is None:
        return {}
    targets = _rel_targets([_attrs(tag) for tag in _REL_ENTRY.findall(rels)], folder)
    paths = {}
    for tag in _SHEET_ENTRY.findall(workbook):
        attrs = _attrs(tag)
        rel_id = next((attrs[k] for k in _SHEET_RID if k in attrs), None)
        name = _xml_attr_value(attrs.get(b"name", b""))
        if rel_id in targets and name not in paths:
            paths[name] = targets[rel_id]
    return paths


def _rel_targets(listed: list[dict[bytes, bytes]], folder: str) -> dict[bytes | None, str]:
    """Id -> the part each relationship points at, as calamine resolves a target: an
    absolute one from the package's root, any other below the workbook's folder (so
    "xl/worksheets/sheet1.xml" is xl/xl/worksheets/sheet1.xml)."""
    targets = {}
    for attrs in listed:
        target = attrs.get(b"Target", b"").decode("utf-8", "replace")
        targets[attrs.get(b"Id")] = target[1:] if target.startswith("/") else f"{folder}{target}"
    return targets


def _folder(listed: list[dict[bytes, bytes]]) -> str:
    """The workbook's folder from the package's relationships: the last officeDocument
    relationship's, its references resolved ("xl/" without one; calamine refuses that file)."""
    folder = "xl/"
    for attrs in listed:
        target = attrs.get(b"Target")
        if attrs.get(b"Type", b"").endswith(b"/relationships/officeDocument") and target:
            found = _xml_attr_value(target)
            folder = found[: found.rfind("/") + 1].removeprefix("/")
    return folder


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    return {name: double or single for name, double, single in _ATTR.findall(tag)}


_XML_REFERENCE = re.compile(r"&(?:#([0-9]{1,8})|#x([0-9a-fA-F]{1,8})|(lt|gt|quot|apos|amp));")
_XML_NAMED = {"lt": "<", "gt": ">", "quot": '"', "apos": "'", "amp": "&"}


def _xml_attr_value(raw: bytes) -> str:
    """An attribute's text with every reference resolved: the five named ones and numeric
    character references (`&#26816;`, `&#x68C0;`), as calamine resolves a sheet's name."""
    text = raw.decode("utf-8", "replace")
    if "&" not in text:
        return text
    return _XML_REFERENCE.sub(_xml_reference, text)


def _xml_reference(match: re.Match[str]) -> str:
    decimal, hexadecimal, named = match.groups()
    if named:
        return _XML_NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF else match.group(0)


# --- .ods: content.xml, positional rows and cells ------------------------------------------

# The tags that move the position in an ODF table; attributes read with their quotes, as a
# formula may hold a ">". Literal `table:` prefixes, as calamine reads them.
_ODS_TABLE = re.compile(rb"<table:table(?=[\s/>])" + _ATTRS + rb">")
_ODS_TABLE_START = re.compile(rb"<table:table(?=[\s/>])")
_ODS_TABLE_END = b"</table:table>"
_ODS_ROW = re.compile(rb"<table:table-row(?=[\s/>])" + _ATTRS + rb">")
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell(?=[\s/>])" + _ATTRS + rb">")
_ODS_CELL_STARTS = (b"<table:table-cell", b"<table:covered-table-cell")
_ODS_MIN_CELL = len(b"<table:table-cell>")  # the shortest cell tag
# The empty cell LibreOffice ends every row with, up to the last column: no value, no content.
_ODS_FILLER = re.compile(
    rb'<table:table-cell(?:\s+table:style-name="[^"]*")?'
    rb'\s+table:number-columns-repeated="\d+"\s*/>\s*\Z'
)
_ODS_NAME = re.compile(rb"\stable:name" + _EQ + rb"""(?:"([^"]*)"|'([^']*)')""")
_ODS_ROWS_REPEATED = re.compile(rb"number-rows-repeated" + _EQ + rb"""["']\s*0*(\d+)""")
_ODS_COLUMNS_REPEATED = re.compile(rb"number-columns-repeated" + _EQ + rb"""["']\s*0*(\d+)""")
_ODS_HIDDEN_ROW = re.compile(rb"\stable:visibility" + _EQ + rb"""["'](?:collapse|filter)["']""")
_INPUT_COLUMNS = tuple(int(col) for col in layout.INPUT_COLS)
_INPUT_LETTER_COLUMN = {layout.cell(0, col)[:-1].encode(): col for col in _INPUT_COLUMNS}


def _repeats(digits: bytes) -> int:
    return int(digits) if len(digits) <= 9 else _HUGE  # past any sheet: refused, never parsed


@dataclass
class _SheetScan:
    """One sheet walked by hand: its farthest filled cell, input formulas and hidden rows."""

    rows: int = 0
    cols: int = 0
    formulas: set[tuple[int, int]] = field(default_factory=set)
    hidden: set[int] = field(default_factory=set)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)

    def fill(self, row_end: int, col_end: int) -> bool:
        """Note a filled block ending before (row_end, col_end); False once too large."""
        self.rows = max(self.rows, row_end)
        self.cols = max(self.cols, col_end)
        return self.rows * self.cols <= MAX_SHEET_CELLS


class _ScannedSheets:
    """Sheets walked by hand into a _SheetScan each (.ods tables, .xls sheets): what the
    checks ask of a sheet, from its scan (None: the sheet could not be walked)."""

    def scan(self, name: str) -> _SheetScan | None:
        raise NotImplementedError

    def extent(self, name: str) -> Extent | None:
        scan = self.scan(name)
        return None if scan is None else (scan.rows, scan.cols)

    def inputs(self, name: str) -> Inputs:
        scan = self.scan(name)
        return (None, set()) if scan is None else (scan.formulas, scan.hidden)

    def errors(self, name: str) -> dict[tuple[int, int], str]:
        # an ODF cell holds an error only as a formula's result: its scan has none
        scan = self.scan(name)
        return {} if scan is None else scan.errors


class _OdsTables(_ScannedSheets):
    """The .ods tables walked by hand from content.xml (extent, input formulas, hidden rows)."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile):
        self.data = data
        self.archive = archive
        self._content: bytes | None = None
        self._starts: dict[str, int] | None = None
        self._scans: dict[str, _SheetScan | None] = {}

    def _table_starts(self) -> dict[str, int]:
        if self._starts is None:
            self._starts = {}
            try:
                info = self.archive.getinfo("content.xml")
                self._content = _read_part(self.data, self.archive, info)
            except (KeyError, *_PART_ERRORS):
                return self._starts  # calamine reports the broken part
            content = self._content
            for start in _ODS_TABLE_START.finditer(content):
                match = _ODS_TABLE.match(content, start.start())
                name = _ODS_NAME.search(match.group(1)) if match else None
                if match and name:
                    text = _xml_attr_value(name.group(1) or name.group(2) or b"")
                    self._starts.setdefault(text, match.end())
        return self._starts

    def names(self) -> list[str]:
        return list(self._table_starts())

    def scan(self, name: str) -> _SheetScan | None:
        if name not in self._scans:
            start = self._table_starts().get(name)
            content = self._content
            if start is None or content is None:
                self._scans[name] = None
            else:
                end = content.find(_ODS_TABLE_END, start)
                end = end if end >= 0 else len(content)
                self._scans[name] = _scan_ods_table(content, start, end)
        return self._scans[name]


def _scan_ods_table(content: bytes, start: int, end: int, exact: bool = False) -> _SheetScan:
    """Walk one table's rows, counting repeats; stops once the extent is too large.

    A cell is filled when it has a value type, a formula or any content; LibreOffice's
    trailing repeated empty rows and cells are self-closing and count for nothing. Rows without
    repeated cells (besides the trailing filler) are measured by their length, an upper bound;
    when that bound is too large, the table is walked again cell by cell for the exact corner.
    """
    scan = _SheetScan()
    hidden: list[tuple[int, int]] = []
    row = 0
    pos = start
    find = content.find
    while (at := find(b"<table:table-row", pos, end)) >= 0:
        tag = _ODS_ROW.match(content, at, end)
        if tag is None:  # <table:table-rows>, <table:table-row-group>: wrappers
            pos = at + 16
            continue
        attrs = tag.group(1)
        repeated = _ODS_ROWS_REPEATED.search(attrs) if b"repeated" in attrs else None
        next_row = row + (_repeats(repeated.group(1)) if repeated else 1)
        if b"visibility" in attrs and _ODS_HIDDEN_ROW.search(attrs):
            hidden.append((row, next_row))
        begin = tag.end()
        stop = begin if attrs.endswith(b"/") else find(b"</table:table-row>", begin, end)
        stop = end if stop < 0 else stop
        pos = stop
        counted = not exact and _count_ods_row(content, begin, stop, row, next_row, scan)
        if not counted and not _walk_ods_row(content, begin, stop, row, next_row, scan):
            return scan if exact else _scan_ods_table(content, start, end, exact=True)
        row = next_row
    # rows hidden past the last filled one (often all the rest of the sheet) hold no criteria
    for first, past in hidden:
        scan.hidden.update(range(first, min(past, scan.rows)))
    return scan


def _count_ods_row(
    content: bytes, begin: int, stop: int, row: int, next_row: int, scan: _SheetScan
) -> bool:
    """The quick way for a row with no repeated cells but its trailing empty filler.

    Each cell tag takes at least 17 bytes, so the row's length bounds its columns. False when
    the row needs walking cell by cell (repeats, or the bound is too large).
    """
    core = stop
    last = content.rfind(b"<table:table-cell", begin, stop)
    if last >= 0 and _ODS_FILLER.match(content, last, stop):
        core = last
    if core - begin < _ODS_MIN_CELL:
        return True  # no cell but the empty filler
    if content.find(b"repeated", begin, core) >= 0:
        return False
    width = (core - begin) // _ODS_MIN_CELL
    if max(scan.rows, next_row) * max(scan.cols, width) > MAX_SHEET_CELLS:
        return False  # a bound only: walk the row for its exact cells
    scan.fill(next_row, width)
    at = content.find(b"table:formula", begin, core)
    while at >= 0:
        # "<" never occurs inside a tag: the nearest one before is this attribute's element
        tag = content.rfind(b"<", begin, at)
        if content.startswith(_ODS_CELL_STARTS, tag):
            count = content.count
            col = count(b"<table:table-cell", begin, tag) + count(
                b"<table:covered-table-cell", begin, tag
            )
            if col in _INPUT_COLUMNS:
                scan.formulas.update((r, col) for r in range(row, next_row))
        at = content.find(b"table:formula", at + 1, core)
    return True


def _walk_ods_row(
    content: bytes, begin: int, stop: int, row: int, next_row: int, scan: _SheetScan
) -> bool:
    """Cell by cell, with their repeats; False once the extent is too large."""
    col = 0
    for match in _ODS_CELL.finditer(content, begin, stop):
        attrs = match.group(1)
        repeated = _ODS_COLUMNS_REPEATED.search(attrs) if b"repeated" in attrs else None
        next_col = col + (_repeats(repeated.group(1)) if repeated else 1)
        formula = b"table:formula" in attrs
        if formula or not attrs.endswith(b"/") or b"value-type" in attrs:
            if not scan.fill(next_row, next_col):
                return False
            if formula:
                for c in _INPUT_COLUMNS:
                    if col <= c < next_col:
                        scan.formulas.update((r, c) for r in range(row, next_row))
        col = next_col
    return True


# --- .xls: BIFF8 records in the OLE file's Workbook stream ---------------------------------

_BIFF_HEADER = struct.Struct("<HH")
_BIFF_ROW_COL = struct.Struct("<HH")
_BIFF_BOF, _BIFF_EOF, _BIFF_BOUNDSHEET = 0x0809, 0x000A, 0x0085
_BIFF_DIMENSIONS, _BIFF_ROW, _BIFF_FORMULA = 0x0200, 0x0208, 0x0006
_BIFF_MULRK, _BIFF_MULBLANK = 0x00BD, 0x00BE
# Records of one cell, starting with its row and column: FORMULA, LABELSST, NUMBER, RK,
# BOOLERR, LABEL, RSTRING, BLANK (a formatted blank counts: calamine may size its grid by it).
_BIFF_CELLS = frozenset({0x0006, 0x00FD, 0x0203, 0x027E, 0x0205, 0x0204, 0x00D6, 0x0201})
_BIFF_ROW_HIDDEN = 0x20  # ROW option flags: fDyZero, the row is hidden
_BIFF_BOOLERR = 0x0205
_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!",
                0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A"}  # fmt: skip


class _XlsSheets(_ScannedSheets):
    """The .xls sheets walked by hand from the BIFF8 Workbook stream."""

    def __init__(self, data: bytes):
        self.data = data
        self._stream: bytes | None = None
        self._offsets: dict[str, int] | None = None
        self._scans: dict[str, _SheetScan | None] = {}

    def _sheet_offsets(self) -> dict[str, int]:
        if self._offsets is None:
            self._offsets = {}
            try:
                import olefile

                with olefile.OleFileIO(io.BytesIO(self.data)) as ole:
                    self._stream = ole.openstream("Workbook").read()
            except Exception:  # olefile raises several types; calamine judges the file
                return self._offsets
            self._offsets = _biff_boundsheets(self._stream)
        return self._offsets

    def names(self) -> list[str]:
        return list(self._sheet_offsets())

    def scan(self, name: str) -> _SheetScan | None:
        if name not in self._scans:
            offset = self._sheet_offsets().get(name)
            stream = self._stream
            self._scans[name] = (
                None if offset is None or stream is None else _scan_biff_sheet(stream, offset)
            )
        return self._scans[name]


def _biff_boundsheets(stream: bytes) -> dict[str, int]:
    """Sheet name -> offset of its BOF, from the globals substream; {} when not BIFF8."""
    size = len(stream)
    if size < 8 or _BIFF_HEADER.unpack_from(stream, 0)[0] != _BIFF_BOF:
        return {}
    if stream[4:6] != b"\x00\x06":  # BIFF8 only: BIFF5 names and cells are laid out otherwise
        return {}
    offsets: dict[str, int] = {}
    pos = 0
    while pos + 4 <= size:
        kind, length = _BIFF_HEADER.unpack_from(stream, pos)
        body = pos + 4
        if body + length > size:
            return {}  # cut short: calamine reports it
        if kind == _BIFF_EOF:
            break
        if kind == _BIFF_BOUNDSHEET and length >= 8:
            # lbPlyPos, hsState, dt, then a ShortXLUnicodeString: cch, fHighByte, characters
            offset = int.from_bytes(stream[body : body + 4], "little")
            count, high = stream[body + 6], stream[body + 7] & 1
            raw = stream[body + 8 : body + 8 + count * (2 if high else 1)]
            name = raw.decode("utf-16-le", "replace") if high else raw.decode("latin-1")
            offsets.setdefault(name, offset)
        pos = body + length
    return offsets


def _scan_biff_sheet(stream: bytes, offset: int) -> _SheetScan | None:
    """Walk one sheet's records from its BOF to its EOF (embedded chart substreams skipped).

    The extent is the larger of DIMENSIONS and the cells found: calamine may reserve its grid
    from DIMENSIONS, which a file can state freely. CONTINUE records are stepped over like any
    other: none of the records read here is long enough to need one.
    """
    size = len(stream)
    if offset + 4 > size or _BIFF_HEADER.unpack_from(stream, offset)[0] != _BIFF_BOF:
        return None
    scan = _SheetScan()
    formulas, hidden = scan.formulas, scan.hidden
    rows = cols = 0
    depth = 0
    pos = offset
    header, row_col = _BIFF_HEADER.unpack_from, _BIFF_ROW_COL.unpack_from
    cells, inputs = _BIFF_CELLS, _INPUT_COLUMNS
    while pos + 4 <= size:
        kind, length = header(stream, pos)
        body = pos + 4
        pos = body + length
        if pos > size:
            return None
        if kind in cells:
            if length < 4:
                return None
            r, c = row_col(stream, body)
            rows = r if r > rows else rows
            cols = c if c > cols else cols
            if kind == _BIFF_FORMULA and depth == 1 and c in inputs:
                formulas.add((r, c))
            elif kind == _BIFF_BOOLERR and depth == 1 and length >= 8 and stream[body + 7]:
                scan.errors[(r, c)] = _BIFF_ERRORS.get(stream[body + 6], "#N/A")
        elif kind == _BIFF_ROW:
            if length >= 14 and stream[body + 12] & _BIFF_ROW_HIDDEN:
                hidden.add(row_col(stream, body)[0])
        elif kind in (_BIFF_MULRK, _BIFF_MULBLANK):
            if length < 6:
                return None
            r = row_col(stream, body)[0]
            c = int.from_bytes(stream[pos - 2 : pos], "little")
            rows = r if r > rows else rows
            cols = c if c > cols else cols
        elif kind == _BIFF_DIMENSIONS:
            if length >= 12:
                # rwMic, rwMac (one past the last row), colMic, colMac (one past the last column)
                last_row = int.from_bytes(stream[body + 4 : body + 8], "little")
                last_col = int.from_bytes(stream[body + 10 : body + 12], "little")
                scan.fill(last_row, last_col)
        elif kind == _BIFF_BOF:
            depth += 1
        elif kind == _BIFF_EOF:
            depth -= 1
            if depth <= 0:
                break
    if rows or cols or formulas:
        scan.fill(rows + 1, cols + 1)
    return scan


# --- values as typed -> Python values ------------------------------------------------------

_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def as_date(value: Any) -> date | None:
    """A cover date as calamine gives it (date, datetime, serial number) or typed as text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        return date.fromordinal(date(1899, 12, 30).toordinal() + int(value))
    if isinstance(value, str):
        import unicodedata

        match = _DATE_TEXT.match(unicodedata.normalize("NFKC", value))
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return None
    return None
