"""The files of a batch of returns: a folder or a .zip enumerated, names as HQ reads them.

Every entry found is a `Source`: read lazily (in a worker) or skipped with its reason.
Returned files are only ever read.
"""

from __future__ import annotations

import functools
import os
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from stat import S_ISREG
from typing import Protocol, TypeVar

from audit_xls.grading.register import IssuedEntry
from audit_xls.i18n import t
from audit_xls.model.diagnostics import Diagnostic, make, message
from audit_xls.model.results import Skipped, WorkbookResult

# .et (WPS 表格) is read too: WPS writes it as an OLE file with an Excel 97-2003 (BIFF8) workbook
# stream, which the reader recognises by content; grade.py says what to do when it cannot.
WPS_EXTENSION = ".et"
READ_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", WPS_EXTENSION)
JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
ZIP_UTF8_FLAG = 0x800


class GradeError(ValueError):
    """Raised when RETURNS is neither a folder nor a readable .zip."""


@dataclass(frozen=True)
class Source:
    """One returned file, read lazily in a worker so only `jobs` files sit in memory.

    Sources are sent to the reader processes (grading/pool.py), so `read` must pickle: a
    module-level function or a functools.partial of one, never a lambda or a closure.
    """

    name: str  # as HQ sees it: relative path in the folder or member name in the zip
    size: int
    modified: datetime | None
    read: Callable[[], bytes]
    regular: bool = True  # False for pipes, devices and broken links, which are not read
    # Decided while listing, before any read: a skip.* code (a folder that cannot be listed, a
    # link loop, a folder named like a workbook) or a file.* code (a zip member that is
    # encrypted, too large or too compressed: sent back unread), with the message's parameters.
    refused: str = ""
    params: tuple[tuple[str, object], ...] = ()


class _Record(Protocol):
    diagnostics: list[Diagnostic]


R = TypeVar("R", bound=_Record)


def received(
    source: Source, data: bytes | Diagnostic | Skipped, new: Callable[..., R]
) -> Skipped | tuple[R, bytes | None]:
    """How a returned file's record begins, for grade and rectify collect alike, from what
    reading it gave (grade.read_source): a skip stays a skip; a file whose bytes could not be
    had gets a record with no hash carrying why (bytes None); bytes get a record with their
    hash. `new(name, file_hash, modified=...)` makes the record (WorkbookResult, Reply)."""
    if isinstance(data, Skipped):
        return data
    if isinstance(data, Diagnostic):
        record = new(source.name, "", modified=source.modified)
        record.diagnostics.append(data)
        return record, None
    from audit_xls.workbook.read import sha256  # in the reader: grade's own process lists only

    return new(source.name, sha256(data), modified=source.modified), data


def is_junk(name: str) -> bool:
    """Temp and system files office software and file managers leave beside workbooks."""
    path = PurePosixPath(name)
    base = path.name
    return (
        "__MACOSX" in path.parts
        or base.lower() in JUNK_NAMES
        or base.startswith(("~$", ".~", "._"))
        or (base.startswith(".~lock.") and base.endswith("#"))
    )


def skip_reason(name: str, lang: str = "zh") -> str | None:
    """Why a file in the returns is not read (None when it is a workbook to read)."""
    path = PurePosixPath(name)
    if is_junk(name):
        return message("skip.junk", lang)
    suffix = path.suffix.lower()
    if suffix not in READ_EXTENSIONS:
        return message("skip.extension", lang, ext=suffix or "-")
    return None


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as the zip tool that made it meant it, in this order: the UTF-8 flag;
    UTF-8 without the flag (Info-ZIP's zip writes that); the Info-ZIP Unicode Path extra field
    (0x7075, when its CRC matches the stored name: WinRAR, 7-Zip); GBK (Chinese Windows); else
    the zip standard's CP437."""
    if info.flag_bits & ZIP_UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")  # what zipfile decoded the stored bytes from
    except UnicodeEncodeError:  # decoded with another metadata_encoding: leave it
        return info.filename
    for decode in (_utf8, lambda b: _unicode_path(info, b), _gbk):
        name = decode(raw)
        if name is not None:
            return name
    return info.filename


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _gbk(raw: bytes) -> str | None:
    try:
        return raw.decode("gbk")
    except UnicodeDecodeError:
        return None


def _unicode_path(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field: tag 0x7075, version 1, CRC-32 of the stored
    name, then the UTF-8 name. A CRC that does not match means the name was changed by a tool
    that kept the field: the field is then stale and ignored, as the spec says."""
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        body, extra = extra[4 : 4 + size], extra[4 + size :]
        if tag == 0x7075 and len(body) >= 5 and body[0] == 1:
            (crc,) = struct.unpack("<I", body[1:5])
            if crc == zlib.crc32(raw):
                return _utf8(body[5:])
    return None


def readable_name(name: str) -> str:
    """A name from os.listdir as it reads on Windows. On Linux a name that is not UTF-8 (GBK
    bytes, left by unzip of a Chinese-Windows zip) comes as surrogates that no UTF-8 writer
    takes: decode its bytes as GBK, else show each bad byte as U+FFFD (a visible mark)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    raw = os.fsencode(name)
    return _gbk(raw) or raw.decode("utf-8", errors="replace")


# A folder nests at most this deep (symbolic links followed): deeper is listed, not read.
MAX_FOLDER_DEPTH = 32


def folder_sources(folder: Path) -> Iterator[Source]:
    """Every entry under `folder`, sorted by name, nothing left out without a word:
    - a subfolder that cannot be listed (permissions) is one skipped entry with the error;
    - symbolic links (and Windows junctions) to folders are followed, each real folder once:
      a link back to a folder already read (a loop, or the same folder twice) is a skipped
      entry naming the folder it repeats; deeper than MAX_FOLDER_DEPTH is skipped too;
    - a folder named like a workbook (`x.xlsx/`, an unzipped workbook) is one skipped entry,
      not descended into;
    - names are shown as they read on Windows (readable_name).
    """
    root = os.stat(folder)
    seen = {(root.st_dev, root.st_ino): ""}
    yield from sorted(_walk(folder, "", seen, 0), key=lambda s: s.name)


def _refused(name: str, code: str, **params: object) -> Source:
    return Source(name, 0, None, _read_nothing, refused=code, params=tuple(params.items()))


def _read_nothing() -> bytes:
    return b""


def _walk(
    folder: Path, prefix: str, seen: dict[tuple[int, int], str], depth: int
) -> Iterator[Source]:
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError as error:
        yield _refused(
            prefix.rstrip("/") + "/", "skip.folder_unreadable", error=error.strerror or error
        )
        return
    for entry in entries:
        name = prefix + readable_name(entry.name)
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()  # follows links: a link to a folder is a folder
        except OSError:
            is_dir = False
        if is_dir:
            yield from _subfolder(path, name, seen, depth)
            continue
        try:
            stat = path.stat()
            size, modified = stat.st_size, datetime.fromtimestamp(stat.st_mtime)
            regular = S_ISREG(stat.st_mode)
        except OSError:
            size, modified, regular = 0, None, not path.is_symlink()
        # reading a pipe would wait forever; a broken link has nothing to read
        read = functools.partial(_read_file, os.path.abspath(path))  # another cwd in a worker
        yield Source(name, size, modified, read, regular)


def _subfolder(
    path: Path, name: str, seen: dict[tuple[int, int], str], depth: int
) -> Iterator[Source]:
    if PurePosixPath(name).suffix.lower() in (*READ_EXTENSIONS, ".et"):
        yield _refused(name + "/", "skip.folder_named_like_workbook")
        return
    try:
        stat = path.stat()
    except OSError as error:
        yield _refused(name + "/", "skip.folder_unreadable", error=error.strerror or error)
        return
    key = (stat.st_dev, stat.st_ino)
    if key in seen:
        yield _refused(name + "/", "skip.folder_repeated", folder=(seen[key] or ".") + "/")
        return
    if depth >= MAX_FOLDER_DEPTH:
        yield _refused(name + "/", "skip.folder_too_deep", limit=MAX_FOLDER_DEPTH)
        return
    seen[key] = name
    yield from _walk(path, name + "/", seen, depth + 1)


def _zip_date(info: zipfile.ZipInfo) -> datetime | None:
    try:
        return datetime(*info.date_time)
    except ValueError:  # zero or impossible DOS dates occur in hand-made archives
        return None


def _read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


_open_archive: tuple[str, zipfile.ZipFile] | None = None  # per reader process: the last one


def _read_member(archive_path: str, info: zipfile.ZipInfo) -> bytes:
    """A member of a returns .zip, read in a reader process (which keeps the archive open)."""
    global _open_archive
    if _open_archive is None or _open_archive[0] != archive_path:
        if _open_archive is not None:
            _open_archive[1].close()
        _open_archive = (archive_path, zipfile.ZipFile(archive_path))
    return _open_archive[1].read(info)


def zip_sources(archive: zipfile.ZipFile) -> Iterator[Source]:
    """Every member of a returns .zip, checked like a workbook's parts before it is read: an
    encrypted member, one over MAX_UNCOMPRESSED_BYTES or compressed more than
    MAX_COMPRESSION_RATIO is sent back unread (zipfile reads at most the declared size)."""
    path = os.path.abspath(str(archive.filename))  # reader processes may have another cwd
    for info in archive.infolist():
        name = zip_member_name(info)
        if info.is_dir():
            if PurePosixPath(name.rstrip("/")).suffix.lower() in (*READ_EXTENSIONS, ".et"):
                yield _refused(name, "skip.folder_named_like_workbook")
            continue
        refused, params = _member_problem(info, name)
        yield Source(
            name,
            info.file_size,
            _zip_date(info),
            functools.partial(_read_member, path, info),
            refused=refused,
            params=params,
        )


def _member_problem(info: zipfile.ZipInfo, name: str) -> tuple[str, tuple]:
    from audit_xls.workbook.read import (
        MAX_COMPRESSION_RATIO,
        MAX_UNCOMPRESSED_BYTES,
        RATIO_CHECK_MIN_BYTES,
    )

    if info.flag_bits & 0x1:
        return "file.zip_member_encrypted", ()
    if info.file_size > MAX_UNCOMPRESSED_BYTES:
        return "file.too_large", (
            ("size_mb", round(info.file_size / 2**20)),
            ("limit_mb", MAX_UNCOMPRESSED_BYTES // 2**20),
        )
    if info.file_size >= RATIO_CHECK_MIN_BYTES:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_COMPRESSION_RATIO:
            return "file.compression_ratio", (
                ("entry", name),
                ("ratio", round(ratio)),
                ("limit", MAX_COMPRESSION_RATIO),
            )
    return "", ()


def refusal(source: Source, lang: str = "zh") -> Skipped | Diagnostic | None:
    """What becomes of a source without reading it: skipped (junk, not a workbook, not a
    regular file, a folder that could not be listed ...), sent back unread (a diagnostic), or
    None: read it."""
    if source.refused.startswith("skip."):
        params = dict(source.params)
        return Skipped(source.name, message(source.refused, lang, **params), code=source.refused)
    if source.refused:
        return make(source.refused, lang, file=source.name, **dict(source.params))
    if not source.regular:
        return Skipped(source.name, message("skip.not_regular", lang), code="skip.not_regular")
    if is_junk(source.name):
        return Skipped(source.name, message("skip.junk", lang), junk=True, code="skip.junk")
    suffix = PurePosixPath(source.name).suffix.lower()
    if suffix not in READ_EXTENSIONS:  # .et is read (see READ_EXTENSIONS)
        text = message("skip.extension", lang, ext=suffix or "-")
        return Skipped(source.name, text, code="skip.extension")
    return None


@contextmanager
def open_sources(returns: Path, lang: str = "zh") -> Iterator[list[Source]]:
    """Every entry of RETURNS (a folder or a .zip), in name order for a folder and archive
    order for a zip; a zip stays open (for the lazy reads) until the block ends."""
    returns = Path(returns)
    if returns.is_dir():
        yield list(folder_sources(returns))
        return
    if returns.is_file() and returns.suffix.lower() == ".zip":
        try:
            archive = zipfile.ZipFile(returns)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as error:
            raise GradeError(message("file.corrupt", lang, error=f"{returns}: {error}")) from None
        with archive:
            yield list(zip_sources(archive))
        return
    raise GradeError(t("grade.not_folder_or_zip", lang, returns=returns))


def _file_key(name: str) -> str:
    return unicodedata.normalize("NFC", PurePosixPath(name).name).casefold()


def found_unread(
    results: list[WorkbookResult], skipped: list[Skipped], issued: Sequence[IssuedEntry] | None
) -> set[str]:
    """Workbook ids of issued workbooks whose file was found but could not be read: a result
    sent back for its bytes only (file.* codes: damaged, encrypted, too large, the reader
    failed ...), or a skipped file (not junk), named as `build` named the issued file (last
    part of the name, case and Unicode form aside). A file that was read but is not what was
    issued (no manifest, tampered) is no proof of a return: its site stays missing. The sites
    found returned and are not missing; a sent-back result gets the site from the register so
    HQ sees whose it is. A renamed file cannot be matched: its site stays listed missing."""
    if not issued:
        return set()
    by_name = {_file_key(e.file): e for e in issued if e.file}
    found: set[str] = set()
    for result in results:
        unread = not result.workbook_id and all(d.code.startswith("file.") for d in result.errors)
        entry = by_name.get(_file_key(result.file)) if unread and result.errors else None
        if entry is not None:
            found.add(entry.workbook_id)
            if not result.site_code:
                result.site_code, result.site_name = entry.site_code, entry.site_name
                result.region = entry.region
    for skip in skipped:
        entry = None if skip.junk else by_name.get(_file_key(skip.file))
        if entry is not None:
            found.add(entry.workbook_id)
    return found
