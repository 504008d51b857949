"""Lock the structure of an issued workbook: no sheet renamed, deleted, moved, added or unhidden.

XlsxWriter cannot write workbook protection (its author will not add it), so the finished
.xlsx bytes are post-processed: `<workbookProtection lockStructure="1"/>` goes into
xl/workbook.xml after `workbookPr` and before `bookViews`, where the schema wants it. Every
other zip entry is copied with its own date, order and compression, so the result is as
deterministic as the input. Any way of building a workbook (xlsxwriter per site, or a template
patched per site) passes its bytes through `lock_structure` once.

Like sheet protection, this is a convenience against slips, not security (tools remove it in
seconds); tampering is caught by the manifest's fingerprint of the locked content.
"""

from __future__ import annotations

import io
import re
import zipfile

WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_PR = re.compile(rb"<workbookPr\b[^>]*?/>|<workbookPr\b[^>]*>.*?</workbookPr>", re.S)


class ProtectError(ValueError):
    """The bytes are not an .xlsx with a workbook part we can lock (a bug, never user input)."""


def legacy_password_hash(password: str) -> str:
    """The 16-bit hash Excel keeps for sheet and workbook protection passwords (ECMA-376 Part 4,
    §14.7.1; the same hash XlsxWriter writes for sheets)."""
    digest = 0
    for char in password[::-1]:
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password)
    digest ^= 0xCE4B
    return f"{digest:X}"


def protection_element(password: str | None = None) -> bytes:
    attributes = ' lockStructure="1"'
    if password:
        attributes = f' workbookPassword="{legacy_password_hash(password)}"' + attributes
    return f"<workbookProtection{attributes}/>".encode("ascii")


def lock_workbook_xml(xml: bytes, password: str | None = None) -> bytes:
    """xl/workbook.xml with the structure locked (an existing workbookProtection is replaced)."""
    xml = re.sub(rb"<workbookProtection\b[^>]*/>", b"", xml)
    match = _WORKBOOK_PR.search(xml)
    if match is not None:
        at = match.end()
    else:
        views = xml.find(b"<bookViews")
        if views < 0:
            raise ProtectError("xl/workbook.xml has neither workbookPr nor bookViews")
        at = views
    return xml[:at] + protection_element(password) + xml[at:]


def lock_structure(data: bytes, password: str | None = None) -> bytes:
    """The .xlsx `data` with its workbook structure locked; other entries unchanged."""
    source = zipfile.ZipFile(io.BytesIO(data))
    if WORKBOOK_PART not in source.namelist():
        raise ProtectError(f"no {WORKBOOK_PART} in the workbook")
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == WORKBOOK_PART:
                content = lock_workbook_xml(content, password)
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            target.writestr(copy, content)
    return output.getvalue()
