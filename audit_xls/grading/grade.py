"""Grade a folder (or .zip) of returned workbooks: read, check and score each, in parallel.

The batch always finishes: every file ends up graded, sent back (with diagnostics), or
skipped (with the reason); every issued workbook that did not come back is listed missing.
Returned files are only ever read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path

from audit_xls.grading.register import IssuedEntry
from audit_xls.grading.sources import (
    Source,
    is_junk,
    open_sources,
    skip_reason,
)
from audit_xls.grading.validate import Checker
from audit_xls.i18n import t
from audit_xls.model.diagnostics import make, message
from audit_xls.model.results import GRADED, BatchResult, Missing, Skipped, WorkbookResult
from audit_xls.model.standard import Standard
from audit_xls.workbook.layout import Manifest
from audit_xls.workbook.read import MAX_UNCOMPRESSED_BYTES, ReadFailure, read_workbook, sha256

# A returned file bigger than this is refused unread (a workbook of 150 criteria is ~30 KB).
MAX_FILE_BYTES = MAX_UNCOMPRESSED_BYTES

Progress = Callable[[int, int], None]


def grade_returns(
    returns: Path,
    standards: Sequence[Standard],
    issued: Sequence[IssuedEntry] | None,
    *,
    jobs: int = 2,
    lang: str = "zh",
    progress: Progress | None = None,
    standards_folder: str = "",
) -> BatchResult:
    """Grade every returned workbook under RETURNS (a folder or a .zip), in input order."""
    returns = Path(returns)
    checker = Checker(standards, issued, lang=lang, standards_folder=standards_folder)
    with open_sources(returns, lang) as sources:
        skipped: list[Skipped] = []
        to_read: list[Source] = []
        for source in sources:
            reason = (
                skip_reason(source.name, lang)
                if source.regular
                else message("skip.not_regular", lang)
            )
            if reason is None:
                to_read.append(source)
            else:
                skipped.append(Skipped(source.name, reason, junk=is_junk(source.name)))
        workbooks = _grade_all(to_read, checker, jobs, progress)
    unreadable = [w for w in workbooks if isinstance(w, Skipped)]
    results = [w for w in workbooks if isinstance(w, WorkbookResult)]
    _mark_duplicates(results, lang)
    returned_ids = {w.workbook_id for w in results if w.workbook_id}
    missing = [
        Missing(
            e.workbook_id,
            e.site_code,
            e.site_name,
            e.region,
            e.period,
            e.standard_id,
            e.standard_version,
        )
        for e in (issued or [])
        if e.workbook_id not in returned_ids
    ]
    return BatchResult(
        workbooks=results,
        skipped=skipped + unreadable,
        missing=missing,
        issued_count=len(issued) if issued is not None else None,
        graded_at=datetime.now().replace(microsecond=0),
        issued=list(issued) if issued is not None else None,
    )


def _grade_all(
    sources: list[Source], checker: Checker, jobs: int, progress: Progress | None
) -> list[WorkbookResult | Skipped]:
    total = len(sources)
    out: list[WorkbookResult | Skipped | None] = [None] * total
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_one, s, checker): i for i, s in enumerate(sources)}
        for done, future in enumerate(as_completed(futures), 1):
            index = futures[future]
            try:
                out[index] = future.result()
            except Exception as error:  # grade_one reports its own failures; this is the last net
                out[index] = _failed(sources[index], "internal.error", error, checker.lang)
            if progress:
                progress(done, total)
    return [w for w in out if w is not None]


def grade_one(source: Source, checker: Checker) -> WorkbookResult | Skipped:
    """Read, check and score one returned file; any failure becomes a diagnostic."""
    lang = checker.lang
    if source.size > MAX_FILE_BYTES:
        result = WorkbookResult(source.name, "", modified=source.modified)
        result.diagnostics.append(
            make(
                "file.too_large",
                lang,
                file=source.name,
                size_mb=round(source.size / 2**20),
                limit_mb=MAX_FILE_BYTES // 2**20,
            )
        )
        return result
    try:
        data = source.read()
    except OSError as error:
        return Skipped(source.name, message("skip.unreadable", lang, error=error.strerror or error))
    except Exception as error:  # a zip member with a bad CRC, encryption or odd compression
        return _failed(source, "file.corrupt", error, lang)
    result = WorkbookResult(source.name, sha256(data), modified=source.modified)
    try:
        _grade_bytes(data, result, checker)
    except Exception as error:  # the batch always finishes: report, never a traceback
        return _failed(source, "internal.error", error, lang, result.file_hash)
    return result


def _failed(
    source: Source, code: str, error: BaseException, lang: str, file_hash: str = ""
) -> WorkbookResult:
    """A file that could not be graded, sent back with what went wrong."""
    result = WorkbookResult(source.name, file_hash, modified=source.modified)
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    result.diagnostics.append(make(code, lang, file=source.name, error=detail))
    return result


def _grade_bytes(data: bytes, result: WorkbookResult, checker: Checker) -> None:
    raw = read_workbook(data)
    if isinstance(raw, ReadFailure):
        result.diagnostics.append(checker.failure(raw, result.file))
        if raw.manifest is not None:  # a sheet deleted or renamed: sent back, not missing
            _identify(result, raw.manifest)
        return
    _identify(result, raw.manifest)
    checked = checker.check(raw, result.file)
    raw.release()
    result.standard = checked.standard
    result.inspector = checked.inspector
    result.inspection_date = checked.inspection_date
    result.answers = checked.answers
    result.diagnostics.extend(checked.diagnostics)
    if not checked.has_errors and checked.card is not None:
        result.status = GRADED
        result.card = checked.card


def _identify(result: WorkbookResult, manifest: Manifest) -> None:
    """Site and region from the manifest; id and month only when it is intact."""
    values = manifest.values
    result.site_code = values.get("site_code", "")
    result.site_name = values.get("site_name", "")
    result.region = values.get("region", "")
    if manifest.checksum == manifest.expected_checksum:
        # an edited manifest's id and month must not count as a return or open a month
        result.workbook_id = values.get("workbook_id", "")
        result.period = values.get("period", "")


def _mark_duplicates(results: list[WorkbookResult], lang: str) -> None:
    """The same workbook id twice: the newer file counts, the older is marked and both listed."""
    by_id: dict[str, list[WorkbookResult]] = {}
    for result in results:
        if result.workbook_id:
            by_id.setdefault(result.workbook_id, []).append(result)
    for workbook_id, group in by_id.items():
        if len(group) < 2:
            continue
        ordered = sorted(group, key=lambda w: (w.modified or datetime.min, w.file))
        newest = ordered[-1]
        older = ordered[:-1]
        for result in older:
            result.duplicate_of = newest.file
            result.diagnostics.append(
                make(
                    "duplicate.superseded",
                    lang,
                    file=result.file,
                    workbook_id=workbook_id,
                    newer=newest.file,
                )
            )
        newest.diagnostics.append(
            make(
                "duplicate.kept",
                lang,
                file=newest.file,
                workbook_id=workbook_id,
                older=[w.file for w in older],
            )
        )


def register_mismatch(batch: BatchResult, register: str, lang: str = "zh") -> str | None:
    """When no return is of the register's month, the register is the wrong one: say so once,
    rather than send every file back to its site for HQ's mistake."""
    if batch.issued is None:
        return None
    issued = sorted({e.period for e in batch.issued})
    returned = sorted({w.period for w in batch.workbooks if w.period})
    if not returned or set(returned) & set(issued):
        return None
    return t(
        "grade.wrong_register",
        lang,
        register=register,
        issued=issued,
        returned=returned,
        first=returned[0],
    )


def exit_code(batch: BatchResult) -> int:
    """0 when every returned workbook was graded; 1 when any was sent back or skipped.

    Junk (Thumbs.db, ~$ owner files) is listed but needs no action, so it does not count.
    """
    return 1 if batch.sent_back or any(not s.junk for s in batch.skipped) else 0
