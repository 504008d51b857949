"""The files of a batch of returns: a folder or a .zip enumerated, names as HQ reads them.

Every entry found is a `Source`: read lazily (in a worker) or skipped with its reason.
Returned files are only ever read.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from stat import S_ISREG

from audit_xls.i18n import t
from audit_xls.model.diagnostics import message

READ_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
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
    if suffix == ".et":
        return message("skip.et", lang)
    if suffix not in READ_EXTENSIONS:
        return message("skip.extension", lang, ext=suffix or "-")
    return None


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """A member's name: GBK names from Chinese Windows (no UTF-8 flag) decoded as GBK."""
    if info.flag_bits & ZIP_UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def folder_sources(folder: Path) -> Iterator[Source]:
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        if path.is_dir():
            continue
        name = path.relative_to(folder).as_posix()
        try:
            stat = path.stat()
            size, modified = stat.st_size, datetime.fromtimestamp(stat.st_mtime)
            regular = S_ISREG(stat.st_mode)
        except OSError:
            size, modified, regular = 0, None, not path.is_symlink()
        # reading a pipe would wait forever; a broken link has nothing to read
        read = functools.partial(_read_file, os.path.abspath(path))  # another cwd in a worker
        yield Source(name, size, modified, read, regular)


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
    path = os.path.abspath(str(archive.filename))  # reader processes may have another cwd
    for info in archive.infolist():
        if info.is_dir():
            continue
        yield Source(
            zip_member_name(info),
            info.file_size,
            _zip_date(info),
            functools.partial(_read_member, path, info),
        )


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
        except (zipfile.BadZipFile, OSError) as error:
            raise GradeError(message("file.corrupt", lang, error=f"{returns}: {error}")) from None
        with archive:
            yield list(zip_sources(archive))
        return
    raise GradeError(t("grade.not_folder_or_zip", lang, returns=returns))
