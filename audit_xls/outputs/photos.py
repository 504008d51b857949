"""The photo folder: pictures kept from graded returns, each written once under a stable name.

`grade --photos DIR` (default: `photos/` beside the summary) writes every kept picture of a
graded return as `PERIOD_SITE_CRITERION_HASH.ext` (HASH: the first 12 hex digits of the
picture's SHA-256), so re-grading the same returns writes nothing twice and a folder can hold
many months. While a batch is read, pictures wait in a spool folder beside DIR (written by the
readers, so the batch's memory does not grow with its photos); `publish` moves the graded
ones into DIR and the spool is removed, also when the run stops early.

`problem_photos` gives the photos of one problem (site, month, criterion) from the history and
the photo folder, for the 整改通知单 and anything else that shows them.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_xls.atomic import atomic_write_bytes
from audit_xls.model.period import Period
from audit_xls.model.results import GRADED, BatchResult, Photo

DEFAULT_FOLDER = "photos"
SPOOL_PREFIX = ".audit-xls-photos-"
_UNSAFE = re.compile(r"[^\w.-]+")


def default_folder(summary: str | Path) -> Path:
    """`photos/` beside the summary workbook."""
    return Path(summary).parent / DEFAULT_FOLDER


def _part(text: str, limit: int = 40) -> str:
    text = _UNSAFE.sub("_", unicodedata.normalize("NFC", text)).strip("._") or "_"
    return text[:limit]


def photo_name(period: Period | str, site_code: str, criterion: str, photo: Photo) -> str:
    """`2026-11_P001_1.1.03_3f2a9c1b7d4e.jpg`: safe on any disk, stable for the same picture."""
    parts = (_part(str(period), 7), _part(site_code), _part(criterion), photo.sha256[:12])
    return "_".join(parts) + "." + _part(photo.ext, 5)


def spool_photos(folder: str, photos: Iterable[Photo]) -> None:
    """In a reader: write each photo's bytes into the spool once (by hash) and drop them."""
    for photo in photos:
        if photo.data is None:
            continue
        path = Path(folder) / f"{photo.sha256}.{_part(photo.ext, 5)}"
        try:
            if not path.exists():
                atomic_write_bytes(path, photo.data)
        except OSError:
            continue  # the bytes stay with the result; publish writes them
        photo.data = None


class PhotoSpool:
    """The spool folder of one grading run, beside the photo folder; removed on close."""

    def __init__(self, photo_folder: str | Path):
        self.target = Path(photo_folder)
        parent = self.target.resolve().parent
        self.folder = tempfile.mkdtemp(prefix=SPOOL_PREFIX, dir=parent)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PhotoSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def publish(self, batch: BatchResult, summary_folder: str | Path) -> int:
        """Write the graded returns' photos into the photo folder; returns how many files
        were new. Each photo's `path` becomes relative to the summary's folder."""
        return publish(batch, self.target, summary_folder, self.folder)


def publish(
    batch: BatchResult, folder: str | Path, summary_folder: str | Path, spool: str = ""
) -> int:
    """Write every kept photo of the counted graded returns into `folder` (once each)."""
    folder = Path(folder)
    written = 0
    made = False
    for w in batch.workbooks:
        if w.status != GRADED or w.duplicate_of:
            for photo in w.photos:
                photo.data = None  # a sent-back or superseded return's photos are not kept
            continue
        for photo in w.photos:
            target = folder / photo_name(w.period_text, w.site_code, photo.criterion, photo)
            if not target.exists():
                if not made:
                    folder.mkdir(parents=True, exist_ok=True)
                    made = True
                spooled = Path(spool) / f"{photo.sha256}.{_part(photo.ext, 5)}" if spool else None
                if photo.data is not None:
                    atomic_write_bytes(target, photo.data)
                elif spooled is not None and spooled.exists():
                    atomic_write_bytes(target, spooled.read_bytes())
                else:
                    continue  # nothing to write: the reader could not keep it
                written += 1
            photo.data = None
            photo.path = Path(os.path.relpath(target, Path(summary_folder))).as_posix()
            photo.location = str(target.resolve())
    return written


def publish_reply(reply: Any, folder: str | Path) -> int:
    """Write an accepted reply's after-photos into the photo folder (rectify collect), named
    as grade names a finding's (the problem's month, site, criterion, hash); returns how many
    files were new. Each photo's `location` becomes the file's absolute path."""
    folder = Path(folder)
    rows = {row.problem: row for row in reply.rows}
    written = 0
    for photo in reply.photos:
        row = rows.get(photo.criterion)
        if row is None or photo.data is None:
            photo.data = None
            continue
        target = folder / photo_name(row.found_period, reply.site_code, row.code, photo)
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, photo.data)
            written += 1
        photo.data = None
        photo.thumbnail = None
        photo.location = str(target.resolve())
        photo.path = target.name
    return written


@dataclass(frozen=True)
class ProblemPhoto:
    """One photo of a problem, as recorded in the history."""

    criterion: str
    sha256: str
    path: Path  # where the photo folder had it when it was graded
    exists: bool  # the file is still there


def problem_photos(
    history: str | Path, site_code: str, period: Period | str, criterion: str | None = None
) -> list[ProblemPhoto]:
    """The photos of a site's month (one criterion, or all), from its current graded result
    in the history: in checklist order, with their paths in the photo folder."""
    from audit_xls.history.store import load_photos

    return [
        ProblemPhoto(code, sha, Path(path), Path(path).is_file())
        for code, sha, path in load_photos(history, site_code, period, criterion)
    ]
