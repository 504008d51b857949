"""Grade a folder (or .zip) of returned workbooks: read, check and score each, in parallel.

The batch always finishes: every file ends up graded, sent back (with diagnostics), or
skipped (with the reason); every issued workbook that did not come back is listed missing.
Returned files are only ever read.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit_xls.grading import pool
from audit_xls.grading.readers import readers as grade_readers
from audit_xls.grading.register import IssuedEntry
from audit_xls.grading.sources import (
    WPS_EXTENSION,
    Source,
    found_unread,
    open_sources,
    received,
    refusal,
)
from audit_xls.i18n import t
from audit_xls.model.codes import Status
from audit_xls.model.diagnostics import Diagnostic, make, message
from audit_xls.model.results import GRADED, BatchResult, Missing, Photo, Skipped, WorkbookResult
from audit_xls.model.score import Answer, CriterionScore, ScoreCard, SectionScore
from audit_xls.model.standard import Standard
from audit_xls.workbook.layout import MANIFEST_SHEET, Manifest
from audit_xls.workbook.template import (
    DEFAULT_TEMPLATE,
    Template,
    TemplateError,
    adopt,
    load_template,
)

# The reader, the checker and the pictures are imported where a file is read (the reader
# processes): the grading process, which only lists the files and gathers the results, is
# spared their import (~45 ms of CPU before the first result).
if TYPE_CHECKING:
    from audit_xls.grading.validate import Checker
    from audit_xls.workbook.read import RawWorkbook

Progress = Callable[[int, int], None]
Arrived = Callable[[WorkbookResult, bytes], None]


def grade_returns(
    returns: Path,
    standards: Sequence[Standard],
    issued: Sequence[IssuedEntry] | None,
    *,
    jobs: int | None = None,
    lang: str = "zh",
    progress: Progress | None = None,
    standards_folder: str = "",
    limits: pool.Limits | None = None,
    photo_spool: str = "",
    arrived: Arrived | None = None,
) -> BatchResult:
    """Grade every returned workbook under RETURNS (a folder or a .zip), in input order.

    Files are read in `jobs` reader processes (default: one per core; see grading/pool.py),
    each with the memory and time `limits`; `jobs=0` reads in this process (debugging only).
    `arrived(result, packed)`, when given, is called with each result read and its packed
    form (pickled, as it came) as it arrives, while the readers go on (the caller's early
    work; see pack_batch).
    """
    returns = Path(returns)
    config = _Config(tuple(standards), tuple(issued) if issued is not None else None, lang,
                     standards_folder, photo_spool, _templates(lang))  # fmt: skip
    with open_sources(returns, lang) as sources:
        skipped: list[Skipped] = []
        unread: list[WorkbookResult] = []
        to_read: list[Source] = []
        for source in sources:
            refused = refusal(source, lang)  # sources.py: skipped, sent back unread, or read
            if refused is None:
                to_read.append(source)
            elif isinstance(refused, Skipped):
                skipped.append(refused)
            else:
                unread.append(WorkbookResult(source.name, "", modified=source.modified,
                                             diagnostics=[refused]))  # fmt: skip
        workbooks = _grade_all(to_read, config, jobs, progress, limits, arrived)
    unreadable = [w for w in workbooks if isinstance(w, Skipped)]
    results = unread + [w for w in workbooks if isinstance(w, WorkbookResult)]
    _mark_duplicates(results, lang)
    _identify_by_name(results, issued, lang)
    returned_ids = {w.workbook_id for w in results if w.workbook_id}
    # found but not read (a zip member sent back unread, a file that could not be opened): its
    # site returned; matched by the issued file name, it is not listed missing
    returned_ids |= found_unread(results, skipped + unreadable, issued)
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


@dataclass(frozen=True)
class _Config:
    """What a reader process needs to set up its Checker (sent to it once per batch)."""

    standards: tuple[Standard, ...]
    issued: tuple[IssuedEntry, ...] | None
    lang: str
    standards_folder: str
    photo_spool: str = ""  # where readers leave kept pictures (outputs/photos.py)
    # the workbook templates as parsed here (the usual one and the messages' language): a
    # reader adopts them rather than import a YAML parser and parse them again (~15 ms each)
    templates: tuple[Template, ...] = ()


def _templates(lang: str) -> tuple[Template, ...]:
    """The templates a reader will want (the default, which returns name, and `lang`'s, which
    its messages use), parsed here once, where the messages need them anyway."""
    out = []
    for name in dict.fromkeys((DEFAULT_TEMPLATE, lang)):
        try:
            out.append(load_template(name))
        except TemplateError:  # not a template's name: a reader finds out as before
            continue
    return tuple(out)


def _make_checker(config: _Config) -> Checker:
    from audit_xls.grading.validate import Checker

    adopt(config.templates)
    return Checker(
        config.standards, config.issued, lang=config.lang,
        standards_folder=config.standards_folder, photo_spool=config.photo_spool,
    )  # fmt: skip


def _grade_in_worker(checker: Checker, source: Source) -> tuple[Any, int]:
    """grade_one in a reader process, its result packed as plain tuples (see _pack) and
    pickled here: the grading process keeps these bytes for the history's process as they
    came, rather than pickling the tuples again."""
    result = grade_one(source, checker)
    if isinstance(result, Skipped):
        return result, -1
    return pickle.dumps(_pack(result, checker.standards), pickle.HIGHEST_PROTOCOL), 0


# Results cross from the reader processes as tuples: pickling ~100 slotted dataclasses and
# the standard per workbook cost more than grading it. The standard goes as its index.


_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _slots(obj: Any) -> tuple[Any, ...]:
    """A dataclass's fields in order (what its constructor takes back)."""
    getter = _FIELDS.get(type(obj))
    if getter is None:
        names = tuple(f.name for f in fields(obj) if f.init)
        many = attrgetter(*names) if len(names) > 1 else None
        getter = _FIELDS[type(obj)] = many or (lambda o: tuple(getattr(o, n) for n in names))
    return getter(obj)


def _pack(result: WorkbookResult, standards: Sequence[Standard]) -> tuple[Any, ...]:
    # answers and criterion scores as columns (codes, results, points, notes / deductions):
    # ~80 small tuples fewer to pickle and unpickle a workbook; the scores' codes left out
    # (None) when they are the answers' codes, as they are for a graded return
    rows = ((code, a.result, a.problem_points, a.note) for code, a in result.answers.items())
    answers = tuple(zip(*rows, strict=True)) or ((), (), (), ())
    card = result.card
    packed_card = None
    if card is not None:
        criteria = tuple(zip(*(_slots(c) for c in card.criteria), strict=True)) or ((), (), (), ())
        if criteria[0] == answers[0]:
            criteria = (None, *criteria[1:])
        packed_card = (
            card.total, card.max_score, card.percent, card.grade,
            tuple(_slots(s) for s in card.sections), criteria,
            card.inspection_vetoed, card.unanswered,
        )  # fmt: skip
    standard = -1
    if result.standard is not None:
        standard = next(i for i, s in enumerate(standards) if s is result.standard)
    return (
        result.file, result.file_hash, str(result.status), result.workbook_id, result.site_code,
        result.site_name, result.region, result.period_text, standard, result.inspector,
        result.inspection_date,
        answers, packed_card, tuple(_slots(d) for d in result.diagnostics), result.modified,
        result.duplicate_of,
        tuple((v.problem, v.code, v.verdict, v.note) for v in result.rechecks),  # 复查
        tuple(_slots(p) for p in result.photos),
    )  # fmt: skip


def pack_batch(
    batch: BatchResult,
    standards: Sequence[Standard],
    marks: Mapping[int, tuple],
    kept: Mapping[int, bytes],
) -> list[bytes]:
    """The batch's workbooks packed (pickled) as they travel between processes (unpack_batch
    takes them back): the reader's bytes as they arrived (`kept`, by id() of the result),
    where the result is still as it came (its result_mark the one in `marks`); packed again
    where it changed (a duplicate marked, a site found by the file name, photos published) or
    never travelled (sent back unread)."""
    out = []
    for w in batch.workbooks:
        packed = kept.get(id(w))
        if packed is None or w.photos or marks.get(id(w)) != result_mark(w):
            packed = pickle.dumps(_pack(w, standards), pickle.HIGHEST_PROTOCOL)
        out.append(packed)
    return out


def result_mark(w: WorkbookResult) -> tuple[Any, ...]:
    """What grading after the readers may change (_mark_duplicates, _identify_by_name), as it
    is now: a result whose mark is the one it arrived with is as the reader packed it."""
    return (
        w.workbook_id, w.site_code, w.site_name, w.region, w.period_text, w.duplicate_of,
        len(w.diagnostics), str(w.status),
    )  # fmt: skip


def unpack_batch(packed: Sequence[bytes], standards: Sequence[Standard]) -> list:
    return [_unpack(pickle.loads(p), standards) for p in packed]


def _unpack(packed: tuple[Any, ...], standards: Sequence[Standard]) -> WorkbookResult:
    (
        file,
        file_hash,
        status,
        workbook_id,
        site_code,
        site_name,
        region,
        period,
        standard,
        inspector,
        inspection_date,
        answers,
        card,
        diagnostics,
        modified,
        duplicate_of,
        rechecks,
        photos,
    ) = packed
    codes, results, points, notes = answers
    if card is not None:
        total, max_score, percent, grade, sections, criteria, vetoed, unanswered = card
        scored, *columns = criteria
        card = ScoreCard(
            total, max_score, percent, grade, tuple(SectionScore(*s) for s in sections),
            tuple(map(CriterionScore, codes if scored is None else scored, *columns)),
            vetoed, unanswered,
        )  # fmt: skip
    return WorkbookResult(
        file, file_hash, Status(status), workbook_id, site_code, site_name, region, period,
        standards[standard] if standard >= 0 else None, inspector, inspection_date,
        dict(zip(codes, map(Answer, results, points, notes), strict=True)), card,
        [Diagnostic(*d) for d in diagnostics], modified, duplicate_of,
        rechecks=_verdicts(rechecks) if rechecks else [],
        photos=[Photo(*p) for p in photos],
    )  # fmt: skip


def _verdicts(rechecks: tuple[tuple[Any, ...], ...]) -> list[Any]:
    from audit_xls.rectify.recheck import Verdict  # 复查 rows are rare: imported when met

    return [Verdict(*v) for v in rechecks]


def _grade_all(
    sources: list[Source],
    config: _Config,
    jobs: int | None,
    progress: Progress | None,
    limits: pool.Limits | None,
    arrived: Arrived | None = None,
) -> list[WorkbookResult | Skipped]:
    lang = config.lang

    def failed(source: Source, code: str, detail: str) -> tuple[Any, int]:
        result = WorkbookResult(source.name, "", modified=source.modified)
        if code == pool.READER_TIMEOUT:
            result.diagnostics.append(make(code, lang, file=source.name, seconds=detail))
        else:
            result.diagnostics.append(make(code, lang, file=source.name, error=detail))
        return result, -2  # not packed

    def unpacked(reply: tuple[Any, int]) -> tuple[Any, int]:
        result, kind = reply
        if kind != 0:
            return reply
        workbook = _unpack(pickle.loads(result), config.standards)
        if arrived is not None:
            arrived(workbook, result)
        return workbook, -3  # -3: unpacked

    if jobs == 0:  # in this process: debugging and profiling only (see pool.py)
        packed = pool.run_in_process(_make_checker, _grade_in_worker, config, sources, progress)
    else:
        readers = grade_readers(jobs, limits)
        # each result unpacked as it arrives, while the readers go on with the next files
        packed = readers.map(config, sources, failed, progress, received=unpacked)
    out: list[WorkbookResult | Skipped] = []
    for result, kind in packed:
        out.append(unpacked((result, kind))[0] if kind == 0 else result)
    return out


def grade_one(source: Source, checker: Checker) -> WorkbookResult | Skipped:
    """Read, check and score one returned file; any failure becomes a diagnostic."""
    lang = checker.lang
    opened = received(source, read_source(source, lang), WorkbookResult)
    if isinstance(opened, Skipped):
        return opened
    result, data = opened
    if data is None:
        return result
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
    result.diagnostics.append(make(code, lang, file=source.name, error=_detail(error)))
    return result


def _detail(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def read_source(source: Source, lang: str) -> bytes | Diagnostic | Skipped:
    """A returned file's bytes (grade and rectify collect), or why they cannot be had: too large
    or a zip member that will not inflate (a diagnostic that sends it back), unreadable (a skip)."""
    # a file bigger than the reader's limit is refused unread (150 criteria are ~30 KB)
    from audit_xls.workbook.read import MAX_UNCOMPRESSED_BYTES as MAX_FILE_BYTES

    if source.size > MAX_FILE_BYTES:
        return make(
            "file.too_large",
            lang,
            file=source.name,
            size_mb=round(source.size / 2**20),
            limit_mb=MAX_FILE_BYTES // 2**20,
        )
    try:
        return source.read()
    except OSError as error:
        reason = message("skip.unreadable", lang, error=error.strerror or error)
        return Skipped(source.name, reason, code="skip.unreadable")
    except Exception as error:  # a zip member with a bad CRC, encryption or odd compression
        return make("file.corrupt", lang, file=source.name, error=_detail(error))


def _grade_bytes(data: bytes, result: WorkbookResult, checker: Checker) -> None:
    from audit_xls.workbook.read import ReadFailure, read_workbook

    raw = read_workbook(data, result.file_hash)
    is_et = Path(result.file).suffix.lower() == WPS_EXTENSION
    if isinstance(raw, ReadFailure) and is_et and raw.manifest is None:
        # not readable as an Excel workbook: say what the site must do (save as .xlsx)
        result.diagnostics.append(make("file.et_unreadable", checker.lang, file=result.file))
        return
    if is_et:
        result.diagnostics.append(make("file.et_read", checker.lang, file=result.file))
    if isinstance(raw, ReadFailure):
        result.diagnostics.append(checker.failure(raw, result.file))
        if raw.manifest is not None:  # a sheet deleted or renamed: sent back, not missing
            _identify(result, raw.manifest)
        return
    checked = checker.check(raw, result.file)
    _identify(result, raw.manifest, checked.manifest_intact)
    if checked.standard is not None:
        _attach_photos(data, raw, checked.standard, result, checker)
    raw.release()
    result.standard = checked.standard
    result.inspector = checked.inspector
    result.inspection_date = checked.inspection_date
    result.answers = checked.answers
    result.rechecks = checked.rechecks
    result.diagnostics.extend(checked.diagnostics)
    if not checked.has_errors and checked.card is not None:
        result.status = GRADED
        result.card = checked.card


def _identify(result: WorkbookResult, manifest: Manifest, intact: bool | None = None) -> None:
    """Site and region from the manifest; id and month only when it is intact (`intact`: as
    the checker found it, else worked out here)."""
    values = manifest.values
    result.site_code = values.get("site_code", "")
    result.site_name = values.get("site_name", "")
    result.region = values.get("region", "")
    if intact is None:
        intact = manifest.checksum == manifest.expected_checksum
    if intact:
        # an edited manifest's id and month must not count as a return or open a month
        result.workbook_id = values.get("workbook_id", "")
        result.set_period(values.get("period", ""))  # kept as found when not YYYY-MM


def _attach_photos(
    data: bytes, raw: RawWorkbook, standard: Standard, result: WorkbookResult, checker: Checker
) -> None:
    """The return's pictures, tied to criteria (warnings for the others); with a spool, their
    bytes go there so the batch's memory does not grow with its photos."""
    from audit_xls.outputs.photos import spool_photos
    from audit_xls.workbook.pictures import extract_pictures, photos_for_criteria

    sheet = raw.template.sheets["checklist"]
    plan = checker.layout(standard, raw.template)
    rows = {index: code for code, index in plan.criterion_row.items()}
    found = extract_pictures(data, sheet)
    result.photos, warnings = photos_for_criteria(
        found, rows, sheet, file=result.file, lang=checker.lang
    )
    result.diagnostics.extend(warnings)
    if checker.photo_spool:
        spool_photos(checker.photo_spool, result.photos)


def _identify_by_name(
    results: list[WorkbookResult], issued: Sequence[IssuedEntry] | None, lang: str
) -> None:
    """Returns that name no site, matched to what was issued by their file name so the site is
    sent back rather than chased as not returned: a WPS .et that could not be read (the issued
    name with .et, or a name holding exactly one issued site code); an issued workbook whose
    hidden manifest was deleted (the issued name exactly: nothing else in it is proof), then
    told as the deleted sheet it is."""
    if not issued:
        return
    returned = {w.workbook_id for w in results if w.workbook_id}
    by_stem = {Path(e.file).stem.casefold(): e for e in issued}
    by_name = {Path(e.file).name.casefold(): e for e in issued}
    for result in results:
        path = Path(result.file)
        if result.workbook_id:
            continue
        lost = [d for d in result.diagnostics if d.code == "manifest.missing"]
        if path.suffix.lower() == WPS_EXTENSION:
            entry = by_stem.get(path.stem.casefold())
            if entry is None:
                tokens = set(re.split(r"[_\s]+", path.stem.casefold()))
                matches = [e for e in issued if e.site_code.casefold() in tokens]
                entry = matches[0] if len(matches) == 1 else None
        elif lost and len(result.errors) == 1:
            entry = by_name.get(path.name.casefold())
        else:
            continue
        if entry is None or entry.workbook_id in returned:
            continue
        returned.add(entry.workbook_id)
        result.workbook_id = entry.workbook_id
        result.set_period(entry.period)
        result.site_code, result.site_name = entry.site_code, entry.site_name
        result.region = entry.region
        if lost:
            sheets = dict(lost[0].params).get("sheets", [])
            result.diagnostics[result.diagnostics.index(lost[0])] = make(
                "sheet.missing", lang, file=result.file, sheet=MANIFEST_SHEET,
                name=MANIFEST_SHEET, sheets=sheets,
            )  # fmt: skip


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
    issued = sorted({str(e.period) for e in batch.issued})
    returned = sorted({w.period_text for w in batch.workbooks if w.period_text})  # as found
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
