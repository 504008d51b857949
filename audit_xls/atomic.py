"""Write a file in one step: readers see the old file or the new one, never half of either.

Every file audit-xls writes (workbooks, the register, standards, tables, summaries) goes
through here, so all of them get the same crash safety and the same permissions.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside `path`; on success it replaces `path` in one step.

    The new file gets the permissions a plain open() would give: an existing file's mode,
    else 0o666 less the umask (mkstemp's private 0600 kept colleagues from reading issued
    workbooks). A crash (or any exception) leaves the previous file intact and removes the
    temporary file. An OSError creating or renaming the temporary file names `path`.
    """
    path = Path(path)
    fd, temp = _create_beside(path)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode(path, temp)
        try:
            os.replace(temp, path)
        except OSError as error:
            raise _for_path(error, path) from error
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def new_file_beside(path: Path) -> Path:
    """A new, empty hidden file in path's folder, named as atomic_open names its own, for a
    file another library writes (a SQLite database) before link_new puts it in place."""
    fd, temp = _create_beside(path)
    os.close(fd)
    return temp


def link_new(temp: Path, path: Path) -> bool:
    """Put the finished file `temp` at `path` in one step, unless a file is there already
    (False; `temp` is the caller's to remove). os.link never replaces a file; where the file
    system has no hard links, os.rename, which never replaces one on Windows (on POSIX a file
    made in the instant between the check and the rename would be replaced)."""
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    except OSError:
        if path.exists():
            return False
        try:
            os.rename(temp, path)
        except FileExistsError:
            return False
    return True


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new hidden file in path's folder, created with 0o666 so the umask applies as usual."""
    for _ in range(100):
        temp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(temp, _CREATE, 0o666), temp
        except FileExistsError:
            continue
        except OSError as error:
            raise _for_path(error, path) from error
    raise _for_path(FileExistsError(errno.EEXIST, "no free temporary file name"), path)


def _keep_mode(path: Path, temp: Path) -> None:
    """Replacing a file keeps its permissions, as writing into it would."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return
    os.chmod(temp, mode)


def _for_path(error: OSError, path: Path) -> OSError:
    """The same error (same class, errno, strerror) naming the user's path, not the temp file."""
    if error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(path))


__all__ = ["atomic_open", "atomic_write_bytes", "link_new", "new_file_beside"]
