"""Copies of one xlsx with placeholder texts replaced: how `build` makes many workbooks fast.

build.py writes a standard's workbook once, through its normal code, with placeholder texts
where a site's own texts go; a Stencil of those bytes then gives each site's file by putting
the site's texts where the placeholders are. Nothing is re-derived from the layout here, so
every change to what build writes flows through. What a direct build would write is kept:

- shared strings holding a placeholder are re-serialised with xlsxwriter's own writer
  (escaping, `_xHHHH_`, whitespace), and when a site's text equals another string the table
  is merged and renumbered exactly as xlsxwriter numbers it (first use first), with the
  string cells of every sheet pointing at the new numbers and `uniqueCount` right;
- placeholders in other XML (document properties, page footers) are escaped for where they
  sit: element text or attribute value;
- parts without a placeholder are copied still compressed; the others are deflated as
  zipfile deflates them (the constant text before the first placeholder once per stencil),
  and the zip is written with the template's own entry records (dates, flags, attributes).

So a filled copy is, byte for byte, the file a direct build gives; build.py proves that on a
probe site before it uses a stencil, and tests compare many sites part by part.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.xmlwriter import XMLwriter


class StencilError(ValueError):
    """The template cannot be used as a stencil (a part it does not understand)."""


SHARED_STRINGS = "xl/sharedStrings.xml"
_SST_HEAD = re.compile(rb'^(.*?<sst [^>]*uniqueCount=")(\d+)(">)', re.S)
_SI = re.compile(rb"<si>.*?</si>", re.S)
_SI_TEXT = re.compile(rb'<si><t(?: xml:space="preserve")?>(.*)</t></si>', re.S)
_STRING_CELL = re.compile(rb'( t="s"><v>)(\d+)(</v>)')
# Inverse of xlsxwriter's _escape_control_characters: `_x005F_xHHHH_` is a literal `_xHHHH_`.
_CONTROL_ESCAPE = re.compile(r"_x005F(_x[0-9a-fA-F]{4}_)|_x([0-9a-fA-F]{4})_")

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_XML = XMLwriter()


def _deflater() -> zlib._Compress:
    # What zipfile uses for ZIP_DEFLATED at the default level.
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)


def _escape_text(text: str) -> str:
    """Element text as xlsxwriter writes it (XMLwriter._xml_data_element)."""
    return _XML._escape_control_characters(_XML._escape_data(text))


def _escape_attribute(text: str) -> str:
    return _XML._escape_attributes(text)


def _si(text: str) -> bytes:
    """One shared string exactly as xlsxwriter's SharedStrings writes it."""
    writer = SharedStrings()
    writer.fh = io.StringIO()
    writer._write_si(text)
    return writer.fh.getvalue().encode("utf-8")


def _si_text(entry: bytes) -> str:
    match = _SI_TEXT.fullmatch(entry)
    if match is None:
        raise StencilError("a shared string with a placeholder is not plain text")
    text = match.group(1).decode("utf-8")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _CONTROL_ESCAPE.sub(lambda m: m.group(1) or chr(int(m.group(2), 16)), text)
    if _si(text) != entry:
        raise StencilError("a shared string with a placeholder does not read back")
    return text


@dataclass
class _Member:
    """One zip entry of the template: its record, and its text when placeholders are in it."""

    info: zipfile.ZipInfo
    name: bytes
    compressed: bytes
    crc: int
    size: int
    # For a part with placeholders: the text cut at them, the placeholder and context
    # ("text" or "attribute") of each cut, and the deflate state after the first piece.
    pieces: list[bytes] | None = None
    slots: list[tuple[str, str]] | None = None
    head_out: bytes = b""
    head_crc: int = 0
    head_deflater: zlib._Compress | None = None
    has_string_cells: bool = False
    text: bytes = b""  # a sheet's template text, kept when it has string cells (renumbering)


class Stencil:
    """An xlsx written with placeholder texts, and copies of it with those texts replaced."""

    def __init__(self, data: bytes, placeholders: Sequence[str]):
        self.placeholders = list(placeholders)
        if len(set(self.placeholders)) != len(self.placeholders) or not all(self.placeholders):
            raise StencilError("placeholders must be distinct and not empty")
        archive = zipfile.ZipFile(io.BytesIO(data))
        self.members: list[_Member] = []
        # Sheets with their string cells renumbered, by renumbering: sites whose texts merge
        # alike (say, every site without 城市公司 and 项目类型) reuse one.
        self.renumbered: dict[tuple[int, ...], dict[int, _Member]] = {}
        self.comment = archive.comment
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_DEFLATED or info.extra or info.comment:
                raise StencilError(f"{info.filename}: not a plain deflated entry")
            start = info.header_offset
            name_len, extra_len = struct.unpack("<2H", data[start + 26 : start + 30])
            body = start + 30 + name_len + extra_len
            text = archive.read(info)
            member = _Member(
                info=info,
                name=info.filename.encode("utf-8" if info.flag_bits & 0x800 else "ascii"),
                compressed=data[body : body + info.compress_size],
                crc=info.CRC,
                size=info.file_size,
                has_string_cells=info.filename.startswith("xl/worksheets/")
                and b' t="s"><v>' in text,
            )
            if member.has_string_cells:
                member.text = text
            if info.filename == SHARED_STRINGS:
                self._read_shared_strings(text)
                self.sst_member = member
            else:
                self._cut(member, text)
            self.members.append(member)
        if not hasattr(self, "sst_member"):
            raise StencilError("the template has no shared strings")

    # --- reading the template ---------------------------------------------------------------

    def _read_shared_strings(self, text: bytes) -> None:
        head = _SST_HEAD.match(text)
        if head is None:
            raise StencilError("no shared-string table header")
        entries: list[bytes] = []
        end = head.end()
        for match in _SI.finditer(text, end):
            if match.start() != end:
                raise StencilError("shared strings are not as xlsxwriter writes them")
            entries.append(match.group(0))
            end = match.end()
        if text[end:] != b"</sst>" or int(head.group(2)) != len(entries):
            raise StencilError("shared strings are not as xlsxwriter writes them")
        self.sst_head = (head.group(1), head.group(3))
        self.entries = entries
        encoded = [p.encode("utf-8") for p in self.placeholders]
        # Entry index -> its text, for the strings that hold a placeholder.
        self.variable = {
            i: _si_text(entry)
            for i, entry in enumerate(entries)
            if any(p in entry for p in encoded)
        }
        self.fixed_entries = {e for i, e in enumerate(entries) if i not in self.variable}
        self.sst_first = min(self.variable, default=len(entries))
        prefix = head.group(0) + b"".join(entries[: self.sst_first])
        self.sst_prefix_size = len(prefix)
        self.sst_deflater = _deflater()
        self.sst_head_out = self.sst_deflater.compress(prefix)
        self.sst_head_crc = zlib.crc32(prefix)

    def _cut(self, member: _Member, text: bytes) -> None:
        encoded = {p.encode("utf-8"): p for p in self.placeholders}
        pattern = re.compile(
            b"|".join(re.escape(p) for p in sorted(encoded, key=len, reverse=True))
        )
        cuts = list(pattern.finditer(text))
        if not cuts:
            return
        pieces, slots, start = [], [], 0
        for cut in cuts:
            pieces.append(text[start : cut.start()])
            inside_tag = text.rfind(b"<", 0, cut.start()) > text.rfind(b">", 0, cut.start())
            slots.append((encoded[cut.group(0)], "attribute" if inside_tag else "text"))
            start = cut.end()
        pieces.append(text[start:])
        member.pieces, member.slots = pieces, slots
        deflater = _deflater()
        member.head_out = deflater.compress(pieces[0])
        member.head_crc = zlib.crc32(pieces[0])
        member.head_deflater = deflater

    # --- filling -----------------------------------------------------------------------------

    def fill(self, texts: Mapping[str, str]) -> bytes:
        """The xlsx with each placeholder replaced by texts[placeholder]."""
        missing = [p for p in self.placeholders if p not in texts]
        if missing:
            raise StencilError(f"no text for placeholders {missing!r}")
        entries = list(self.entries)
        for i, template in self.variable.items():
            text = template
            for placeholder in self.placeholders:
                if placeholder in text:
                    text = text.replace(placeholder, texts[placeholder])
            entries[i] = _si(text)
        renumber = self._renumbering(entries)
        parts: list[tuple[_Member, bytes, int, int]] = []
        for member in self.members:
            if member is self.sst_member:
                parts.append((member, *self._shared_strings(entries, renumber)))
            elif renumber is not None and member.has_string_cells:
                sheet = self._renumbered(renumber)[id(member)]
                if sheet.pieces is None:
                    parts.append((member, sheet.compressed, sheet.crc, sheet.size))
                else:
                    parts.append((member, *self._deflate_from_head(sheet, texts)))
            elif member.pieces is None:
                parts.append((member, member.compressed, member.crc, member.size))
            else:
                parts.append((member, *self._deflate_from_head(member, texts)))
        return self._zip(parts)

    def _renumbered(self, renumber: tuple[int, ...]) -> dict[int, _Member]:
        """The sheets with string cells, their cell numbers renumbered (placeholders stay)."""
        sheets = self.renumbered.get(renumber)
        if sheets is None:
            if len(self.renumbered) >= _RENUMBERED_KEPT:
                del self.renumbered[next(iter(self.renumbered))]
            sheets = {}
            for member in self.members:
                if member.has_string_cells:
                    text = _STRING_CELL.sub(
                        lambda m: b"%s%d%s" % (m.group(1), renumber[int(m.group(2))], m.group(3)),
                        member.text,
                    )
                    compressed, crc, size = _deflate(text)
                    sheet = _Member(member.info, member.name, compressed, crc, size)
                    self._cut(sheet, text)
                    sheets[id(member)] = sheet
            self.renumbered[renumber] = sheets
        return sheets

    def _renumbering(self, entries: list[bytes]) -> tuple[int, ...] | None:
        """None when every string is still distinct; else old index -> merged index."""
        seen = set(self.fixed_entries)
        for i in self.variable:
            if entries[i] in seen:
                break
            seen.add(entries[i])
        else:
            return None
        numbers: dict[bytes, int] = {}
        return tuple(numbers.setdefault(entry, len(numbers)) for entry in entries)

    def _shared_strings(
        self, entries: list[bytes], renumber: tuple[int, ...] | None
    ) -> tuple[bytes, int, int]:
        if renumber is None:
            rest = b"".join(entries[self.sst_first :]) + b"</sst>"
            deflater = self.sst_deflater.copy()
            compressed = self.sst_head_out + deflater.compress(rest) + deflater.flush()
            return compressed, zlib.crc32(rest, self.sst_head_crc), self.sst_prefix_size + len(rest)
        unique = list(dict.fromkeys(entries))
        head, close = self.sst_head
        text = b"".join([head, str(len(unique)).encode(), close, *unique, b"</sst>"])
        return _deflate(text)

    @staticmethod
    def _rest(member: _Member, texts: Mapping[str, str]) -> bytes:
        assert member.pieces is not None and member.slots is not None
        out: list[bytes] = []
        for (placeholder, context), piece in zip(member.slots, member.pieces[1:], strict=True):
            value = texts[placeholder]
            escaped = _escape_attribute(value) if context == "attribute" else _escape_text(value)
            out.append(escaped.encode("utf-8"))
            out.append(piece)
        return b"".join(out)

    def _deflate_from_head(
        self, member: _Member, texts: Mapping[str, str]
    ) -> tuple[bytes, int, int]:
        assert member.head_deflater is not None and member.pieces is not None
        rest = self._rest(member, texts)
        deflater = member.head_deflater.copy()
        compressed = member.head_out + deflater.compress(rest) + deflater.flush()
        return compressed, zlib.crc32(rest, member.head_crc), len(member.pieces[0]) + len(rest)

    def _zip(self, parts: list[tuple[_Member, bytes, int, int]]) -> bytes:
        out: list[bytes] = []
        central: list[bytes] = []
        offset = 0
        for member, compressed, crc, size in parts:
            info = member.info
            dostime = info.date_time[3] << 11 | info.date_time[4] << 5 | info.date_time[5] // 2
            dosdate = (info.date_time[0] - 1980) << 9 | info.date_time[1] << 5 | info.date_time[2]
            # the fields the local header and the central directory entry both carry, in order
            shared = (
                info.extract_version,
                info.reserved,
                info.flag_bits,
                info.compress_type,
                dostime,
                dosdate,
                crc,
                len(compressed),
                size,
                len(member.name),
                0,  # extra field length
            )
            local = _LOCAL.pack(b"PK\x03\x04", *shared)
            central.append(
                _CENTRAL.pack(
                    b"PK\x01\x02",
                    info.create_version,
                    info.create_system,
                    *shared,
                    0,  # comment length
                    info.volume,
                    info.internal_attr,
                    info.external_attr,
                    offset,
                )
                + member.name
            )
            out += (local, member.name, compressed)
            offset += len(local) + len(member.name) + len(compressed)
        directory = b"".join(central)
        end = _END.pack(
            b"PK\x05\x06",
            0,
            0,
            len(parts),
            len(parts),
            len(directory),
            offset,
            len(self.comment),
        )
        return b"".join([*out, directory, end, self.comment])


_RENUMBERED_KEPT = 8


def _deflate(text: bytes) -> tuple[bytes, int, int]:
    deflater = _deflater()
    return deflater.compress(text) + deflater.flush(), zlib.crc32(text), len(text)
