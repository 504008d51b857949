"""`rectify collect`: read the returned 整改通知单, check them, record the sites' replies.

Each file goes through what `grade` uses: the folder or .zip enumerated by grading/sources.py
(junk and foreign files skipped with their reason), the bytes read by workbook/read.py (bombs,
encryption, far cells, typed formulas), failures worded by the same diagnostics, the cell
helpers of grading/validate.py. Then the checks of a reply, each located by sheet and cell:
the notice must be one this history issued and still current, its locked text as recorded, and
every problem answered: 已整改 with 整改措施 and a 完成日期 between the inspection and today,
整改中 with an expected date, 无法整改 with a 说明. A reply with any error is sent back whole;
valid replies add one `replied` event per problem, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from audit_xls.grading.grade import read_source
from audit_xls.grading.register import IssuedEntry
from audit_xls.grading.sources import is_junk, open_sources, received, skip_reason
from audit_xls.grading.validate import Choices, clip, expected_found, text_of
from audit_xls.i18n import Clauses, Ref, t
from audit_xls.model.codes import EventKind, EventSource, ProblemStatus, ReplyStatus
from audit_xls.model.diagnostics import ERROR, Diagnostic, make
from audit_xls.model.period import Period, period_or_none, stored_period
from audit_xls.model.results import Photo, Skipped
from audit_xls.rectify import ledger
from audit_xls.rectify.ledger import CANNOT_FIX, CLAIMED, IN_PROGRESS
from audit_xls.rectify.notices import (
    LOCKED_COLS,
    NCol,
    NoticeItem,
    fingerprint,
    is_notice_template,
    locked_cells,
    notice_items,
)
from audit_xls.rectify.recheck import read_choice
from audit_xls.workbook import layout
from audit_xls.workbook.layout import COVER_ROW, COVER_VALUE_COL, HEADER_ROW, cell
from audit_xls.workbook.pictures import extract_pictures, photos_for_criteria
from audit_xls.workbook.read import RawWorkbook, ReadFailure, as_date, read_workbook

MAX_LISTED = 20
# What a site may answer for a problem (the notice's dropdown, in this order).
REPLY_STATUSES = (CLAIMED, IN_PROGRESS, CANNOT_FIX)


ACCEPTED, SENT_BACK = ReplyStatus.ACCEPTED, ReplyStatus.SENT_BACK


@dataclass(frozen=True)
class ReplyRow:
    """One problem as the site answered it."""

    problem: str
    code: str
    text: str
    found_period: Period  # the month the problem was found in
    deadline: str
    status: ProblemStatus  # REPLY_STATUSES: CLAIMED | IN_PROGRESS | CANNOT_FIX
    measure: str
    owner: str
    done_date: date | None
    remark: str
    late: bool


@dataclass
class Reply:
    file: str
    file_hash: str
    status: ReplyStatus = SENT_BACK
    notice_id: str = ""
    site_code: str = ""
    site_name: str = ""
    region: str = ""
    # The notice's month as its manifest names it: `period` when it is YYYY-MM, and the text
    # exactly as found in `period_text` (what messages and the report show: a forged or
    # malformed month is reported as it was written, never tidied).
    period: Period | None = None
    period_text: str = ""
    responder: str = ""
    rows: list[ReplyRow] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    modified: datetime | None = None
    already: bool = False  # the same file was recorded before
    # after-photos kept from the 整改照片 column, `criterion` = the problem's id
    photos: list[Photo] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]


@dataclass
class Collected:
    replies: list[Reply]
    skipped: list[Skipped]
    missing: list[IssuedEntry]  # register entries nobody replied to (with --issued)
    replied_on: date
    recorded: int = 0  # replies new to the history
    already: int = 0

    @property
    def accepted(self) -> list[Reply]:
        return [r for r in self.replies if r.status == ACCEPTED]

    @property
    def sent_back(self) -> list[Reply]:
        return [r for r in self.replies if r.status == SENT_BACK]

    def exit_code(self) -> int:
        return 1 if self.sent_back or any(not s.junk for s in self.skipped) else 0

    def message(self, lang: str = "zh") -> str:
        return t(
            "rectify.collect.account",
            lang,
            read=len(self.replies),
            accepted=len(self.accepted),
            sent_back=len(self.sent_back),
            skipped=len(self.skipped),
            missing=len(self.missing),
            recorded=self.recorded,
            already=self.already,
        )


class _Check:
    """One returned notice's checks, collecting diagnostics in reading order."""

    def __init__(
        self,
        conn: Any,
        raw: RawWorkbook,
        reply: Reply,
        register: dict[str, IssuedEntry] | None,
        today: date,
        lang: str,
        data: bytes = b"",
    ) -> None:
        self.conn, self.raw, self.reply, self.data = conn, raw, reply, data
        self.register, self.today, self.lang = register, today, lang
        self.cover_sheet = raw.template.sheets["cover"]
        self.sheet = raw.template.sheets["checklist"]
        self.labels = raw.template

    def add(self, which: str, /, *, sheet: str = "", cell_name: str = "", **params: Any) -> None:
        self.reply.diagnostics.append(
            make(which, self.lang, file=self.reply.file, sheet=sheet, cell=cell_name, **params)
        )

    def run(self) -> None:
        manifest = self.raw.manifest
        values = manifest.values
        if manifest.checksum != manifest.expected_checksum:
            self.add("manifest.tampered", sheet=layout.MANIFEST_SHEET)
            return
        reply = self.reply
        reply.site_code, reply.site_name = values.get("site_code", ""), values.get("site_name", "")
        reply.region, reply.period_text = values.get("region", ""), values.get("period", "")
        reply.period = period_or_none(reply.period_text)
        if not is_notice_template(values.get("template", "")):
            self.add("reply.not_a_notice", sheet=layout.MANIFEST_SHEET)
            return
        notice_id = values.get("workbook_id", "")
        reply.notice_id = notice_id
        if not self.check_standard(values, notice_id):
            return
        notice = self.conn.execute(
            """SELECT id, site_code, site_name, period, standard_id, standard_version,
                      standard_hash, issued_on, inspection_date, inspector
               FROM notices WHERE notice_id = ?""",
            (notice_id,),
        ).fetchone()
        if notice is None:
            self.add(
                "reply.unknown_notice",
                sheet=layout.MANIFEST_SHEET,
                notice_id=notice_id,
                site_code=reply.site_code,
                period=reply.period_text,
            )
            return
        seq, site_code, site_name, stored, standard_id, _version, content_hash = notice[:7]
        period = stored_period(stored)
        issued_on, inspected, inspector = notice[7:]
        newer = _newer_notice(self.conn, seq, site_code, stored, standard_id)
        if newer is not None:
            self.add(
                "reply.superseded",
                sheet=layout.MANIFEST_SHEET,
                issued_on=issued_on,
                newer=newer[0],
                newer_on=newer[1],
            )
            return
        if not self.check_register(values, notice_id):
            return
        items = notice_items(self.conn, notice_id)
        issued = date.fromisoformat(issued_on)
        expected = locked_cells(self.raw.template, items, period, issued)
        if values.get("fingerprint") != fingerprint(expected, content_hash):
            # a notice issued before the photo columns (its header has ten)
            earlier = locked_cells(self.raw.template, items, period, issued, photo_columns=False)
            if values.get("fingerprint") == fingerprint(earlier, content_hash):
                expected = earlier
        rows = tuple((i.row_index, i.problem) for i in items)
        if values.get("fingerprint") != fingerprint(expected, content_hash) or (
            manifest.criterion_rows != rows
        ):
            self.add("reply.layout", sheet=layout.MANIFEST_SHEET)
            return
        fixed = {
            "site_code": site_code,
            "site_name": site_name,
            "period": str(period),
            "inspection_date": inspected or self.labels["cover"]["not_inspected"],
            "inspector": inspector,
        }
        for name, value in fixed.items():
            found = text_of(self.raw.cover.get(name, ""))
            if name == "inspection_date" and as_date(self.raw.cover.get(name)) is not None:
                found = as_date(self.raw.cover.get(name)).isoformat()  # type: ignore[union-attr]
            if found != value:
                self.add(
                    "reply.cover_changed",
                    sheet=self.cover_sheet,
                    cell_name=cell(COVER_ROW[name], COVER_VALUE_COL),
                    field=self.labels["cover"][name],
                    found=clip(found, 40),
                    expected=value,
                )
        if not self.check_rows(items):
            return
        self.check_locked(expected)
        self.check_answers(items)
        reply.responder = text_of(self.raw.cover.get("site_manager", "")).strip()
        self.after_photos(items)

    def after_photos(self, items: Sequence[NoticeItem]) -> None:
        """The site's after-photos: every picture on a problem's row but the 问题照片 thumbnails
        the notice carries (column K), with grade's checks (workbook/pictures.py); a picture
        refused or on no problem's row is a warning, never a sent-back reply."""
        found = extract_pictures(self.data, self.sheet)
        if not found.found and not found.not_read:
            return
        ours = int(NCol.BEFORE)
        found.found = [f for f in found.found if not (f.kept and _column(f.cell) == ours)]
        rows = {i.row_index: i.problem for i in items}
        photos, warnings = photos_for_criteria(
            found, rows, self.sheet, file=self.reply.file, lang=self.lang,
            outside="reply.picture_no_problem",
        )  # fmt: skip
        self.reply.photos = photos
        self.reply.diagnostics.extend(warnings)

    def check_standard(self, values: dict[str, str], notice_id: str) -> bool:
        """With a register: a notice of a standard the register does not list (or whose
        entry names another standard) is another collection's notice."""
        if self.register is None:
            return True
        entry = self.register.get(notice_id)
        found = f"{values.get('standard_id', '')} v{values.get('standard_version', '')}"
        listed = sorted({f"{e.standard_id} v{e.standard_version}" for e in self.register.values()})
        hashes = {e.standard_hash for e in self.register.values()}
        if entry is None and values.get("standard_hash") in hashes:
            return True
        if entry is not None and values.get("standard_hash") == entry.standard_hash:
            return True
        self.add(
            "reply.other_standard",
            sheet=layout.MANIFEST_SHEET,
            found=found,
            expected=listed or ["-"],
            hash=values.get("standard_hash", "")[:12],
        )
        return False

    def check_register(self, values: dict[str, str], notice_id: str) -> bool:
        if self.register is None:
            return True
        entry = self.register.get(notice_id)
        if entry is None:
            self.add(
                "reply.not_in_register",
                sheet=layout.MANIFEST_SHEET,
                notice_id=notice_id,
                site_code=values.get("site_code", ""),
                period=values.get("period", ""),
                periods=sorted({str(e.period) for e in self.register.values()}) or ["-"],
            )
            return False
        ok = True
        for key in ("site_code", "period"):
            expected = str(getattr(entry, key))  # the register's period: a Period
            if values.get(key, "") != expected:
                self.add(
                    "reply.register_mismatch",
                    sheet=layout.MANIFEST_SHEET,
                    field=self.labels["cover"][key],
                    found=values.get(key, ""),
                    expected=expected,
                )
                ok = False
        return ok

    def check_rows(self, items: Sequence[NoticeItem]) -> bool:
        moved = [
            (i.row_index, i.code, found)
            for i in items
            if (found := text_of(self.raw.value(i.row_index, NCol.CODE))) != i.code
        ]
        if not moved:
            return True
        examples = Clauses(expected_found(cell(r, NCol.CODE), c, f) for r, c, f in moved[:5])
        self.add(
            "reply.rows_changed",
            sheet=self.sheet,
            cell_name=cell(moved[0][0], NCol.CODE),
            examples=examples,
        )
        return False

    def check_locked(self, expected: dict[tuple[int, int], str]) -> None:
        changed = [
            (r, c, value, found)
            for (r, c), value in sorted(expected.items())
            if (r == HEADER_ROW or c in LOCKED_COLS)
            and (found := text_of(self.raw.value(r, c))) != value
        ]
        if not changed:
            return
        examples = Clauses(expected_found(cell(r, c), e, f) for r, c, e, f in changed[:5])
        self.add(
            "reply.locked_changed",
            sheet=self.sheet,
            cell_name=cell(changed[0][0], changed[0][1]),
            count=len(changed),
            examples=examples,
        )

    def check_answers(self, items: Sequence[NoticeItem]) -> None:
        statuses: dict[str, str] = self.labels["statuses"]
        choices = Choices({label: ProblemStatus(code) for code, label in statuses.items()})
        formulas = self.raw.input_formulas or set()
        unanswered: list[tuple[str, str]] = []
        rows: list[ReplyRow] = []
        for item in items:
            r = item.row_index
            where = {"sheet": self.sheet}
            bad = False
            for col in (NCol.STATUS, NCol.DONE, NCol.REMARK):
                if (r, int(col)) in formulas:
                    self.add("reply.formula", **where, cell_name=cell(r, col), item=item.code)
                    bad = True
            if bad:
                continue
            status, ok = read_choice(
                self.add, choices, self.raw.value(r, NCol.STATUS),
                {**where, "cell_name": cell(r, NCol.STATUS), "item": item.code},
                codes=("reply.status_invalid", "reply.status_not_exact"),
                labels=[statuses[c] for c in REPLY_STATUSES], label_of=statuses,
            )  # fmt: skip
            if not ok:
                continue
            if status is None:
                unanswered.append((item.code, cell(r, NCol.STATUS)))
                continue
            # free text is kept as typed (no NFKC), only outer spaces dropped
            measure = text_of(self.raw.value(r, NCol.MEASURE)).strip()
            owner = text_of(self.raw.value(r, NCol.OWNER)).strip()
            remark = text_of(self.raw.value(r, NCol.REMARK)).strip()
            done = self.check_date(item, status)
            # what each status needs said: 已整改 its measure, 无法整改 why (a 说明)
            for needs, col, text, which in (
                (CLAIMED, NCol.MEASURE, measure, "reply.measure_missing"),
                (CANNOT_FIX, NCol.REMARK, remark, "reply.remark_missing"),
            ):
                if status == needs and not text:
                    self.add(
                        which, **where, cell_name=cell(r, col), item=item.code,
                        status=statuses[status],
                    )  # fmt: skip
            late = self.today > date.fromisoformat(item.deadline)
            rows.append(
                ReplyRow(
                    item.problem,
                    item.code,
                    item.text,
                    item.found_period,
                    item.deadline,
                    status,
                    measure,
                    owner,
                    done,
                    remark,
                    late,
                )
            )
        if unanswered:
            self.add(
                "reply.status_missing",
                sheet=self.sheet,
                cell_name=unanswered[0][1],
                count=len(unanswered),
                cells=[
                    Ref.to("format.code_at", code=c, where=w) for c, w in unanswered[:MAX_LISTED]
                ],
            )
        self.reply.rows = rows

    def check_date(self, item: NoticeItem, status: ProblemStatus) -> date | None:
        """完成日期 (已整改) or the expected date (整改中): a date, not before the inspection;
        a finished fix not after today. Optional for 无法整改."""
        r = item.row_index
        where = {"sheet": self.sheet, "cell_name": cell(r, NCol.DONE)}
        typed = self.raw.value(r, NCol.DONE)
        label = self.labels["statuses"][status]
        when = as_date(typed)
        if when is None:
            if text_of(typed).strip():
                self.add(
                    "reply.date_invalid",
                    **where,
                    item=item.code,
                    found=clip(text_of(typed), 40),
                    example=self.today.isoformat(),
                )
            elif status != CANNOT_FIX:
                self.add("reply.date_missing", **where, item=item.code, status=label)
            return None
        if item.inspection_date and when < date.fromisoformat(item.inspection_date):
            self.add(
                "reply.date_before_inspection",
                **where,
                item=item.code,
                found=when.isoformat(),
                inspected=item.inspection_date,
            )
        elif status == CLAIMED and when > self.today:
            self.add(
                "reply.date_future",
                **where,
                item=item.code,
                found=when.isoformat(),
                today=self.today.isoformat(),
                status=label,
                in_progress=self.labels["statuses"][IN_PROGRESS],
            )
        return when


def _column(name: str) -> int:
    """The 0-based column of an A1 cell name (-1 for none)."""
    letters = "".join(ch for ch in name.lstrip("$") if ch.isalpha()).upper()
    if not letters or len(letters) > 3:
        return -1
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _check_file(conn: Any, source: Any, register: Any, today: date, lang: str) -> Reply | Skipped:
    opened = received(source, read_source(source, lang), Reply)
    if isinstance(opened, Skipped):
        return opened
    reply, data = opened
    if data is None:
        return reply
    try:
        raw = read_workbook(data)
        if isinstance(raw, ReadFailure):
            reply.diagnostics.append(
                make(raw.code, lang, file=source.name, sheet=raw.sheet, cell=raw.cell, **raw.params)
            )
            return reply
        _Check(conn, raw, reply, register, today, lang, data).run()
    except Exception as error:  # the batch always finishes: report, never a traceback
        reply.diagnostics.append(
            make(
                "internal.error",
                lang,
                file=source.name,
                error=f"{type(error).__name__}: {error}"[:200],
            )
        )
    if not reply.errors:
        reply.status = ACCEPTED
    return reply


def _record(conn: Any, reply: Reply, replied_on: date, recorded_at: str, lang: str = "zh") -> bool:
    """One reply file: its row and a `replied` event per problem still open. False when the
    same file was recorded for this notice before."""
    if conn.execute(
        "SELECT 1 FROM replies WHERE file_hash = ? AND notice = ?",
        (reply.file_hash, reply.notice_id),
    ).fetchone():
        return False
    conn.execute(
        """INSERT INTO replies (notice, file, file_hash, replied_on, recorded_at)
           VALUES (?, ?, ?, ?, ?)""",
        (reply.notice_id, reply.file, reply.file_hash, replied_on.isoformat(), recorded_at),
    )
    written = [p for p in reply.photos if p.location]
    if written:
        (reply_id,) = conn.execute(
            "SELECT id FROM replies WHERE file_hash = ? AND notice = ?",
            (reply.file_hash, reply.notice_id),
        ).fetchone()
        for seq, p in enumerate(written, 1):
            conn.execute(
                """INSERT INTO reply_photos (reply, seq, problem, sha256, ext, cell, how, width,
                       height, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (reply_id, seq, p.criterion, p.sha256, p.ext, p.cell, p.how, p.width, p.height,
                 p.location),
            )  # fmt: skip
    states = ledger.replay(
        conn,
        where="p.id IN (SELECT problem FROM notice_items WHERE notice = ?)",
        params=(reply.notice_id,),
    )
    for row in reply.rows:
        state = states.get(row.problem)
        if state is None or state.status not in ledger.UNCLOSED:
            # closed at a re-check or withdrawn since the notice: said, nothing changed
            when = "-"
            if state is not None:
                when = state.closed_on or state.events[-1].event_date
            reply.diagnostics.append(
                make(
                    "reply.problem_closed",
                    lang,
                    file=reply.file,
                    item=row.code,
                    status=ledger.status_label(state.status, lang) if state else "-",
                    when=when,
                )
            )
            continue
        ledger.add_event(
            conn,
            recorded_at,
            problem=row.problem,
            kind=EventKind.REPLIED,
            status=row.status,
            event_date=replied_on.isoformat(),
            measure=row.measure,
            owner=row.owner,
            done_date=row.done_date.isoformat() if row.done_date else None,
            note=row.remark,
            late=1 if row.late else 0,
            source=EventSource.REPLY,
            file=reply.file,
            document_id=reply.notice_id,
        )
    return True


def _newer_notice(
    conn: Any, seq: int, site_code: str, period: str, standard_id: str
) -> tuple[str, str] | None:
    """(notice id, issued on) of the latest notice issued after notice `seq` for the same
    site, month (as stored) and standard, or None: a reply must answer the latest."""
    return conn.execute(
        """SELECT notice_id, issued_on FROM notices WHERE site_code = ? AND period = ?
             AND standard_id = ? AND id > ? ORDER BY id DESC""",
        (site_code, period, standard_id, seq),
    ).fetchone()


def _last_notice(conn: Any) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM notices").fetchone()[0])


def _check_still_current(conn: Any, reply: Reply, lang: str) -> None:
    """Under the writers' lock: the reply's notice is still its site's latest (the check
    that depends on what was recorded since the files were read)."""
    row = conn.execute(
        "SELECT id, site_code, period, standard_id, issued_on FROM notices WHERE notice_id = ?",
        (reply.notice_id,),
    ).fetchone()
    if row is None:
        return
    seq, site_code, period, standard_id, issued_on = row
    newer = _newer_notice(conn, seq, site_code, period, standard_id)
    if newer is None:
        return
    reply.diagnostics.append(
        make(
            "reply.superseded",
            lang,
            file=reply.file,
            sheet=layout.MANIFEST_SHEET,
            cell="",
            issued_on=issued_on,
            newer=newer[0],
            newer_on=newer[1],
        )
    )
    reply.status = SENT_BACK


def collect_replies(
    returns: Path,
    history: Path | str,
    *,
    issued: Sequence[IssuedEntry] | None = None,
    today: date | None = None,
    lang: str = "zh",
    photos: str | Path | None = None,
) -> Collected:
    """Check every returned notice under RETURNS and record the valid replies (one write
    transaction, holding the writers' lock only while recording: the files are read and
    checked before, without a lock; a notice recorded meanwhile is checked for under it).
    `today` is the reply date (default: the real today). `photos`: the photo folder the
    accepted replies' after-photos are written into (None: not kept)."""
    from audit_xls.history.backend import location_of
    from audit_xls.history.store import _connect, writing
    from audit_xls.outputs.photos import publish_reply

    today = today or date.today()
    register = {e.workbook_id: e for e in issued} if issued is not None else None
    replies: list[Reply] = []
    skipped: list[Skipped] = []
    recorded = already = 0
    with _connect(location_of(history)) as conn, open_sources(Path(returns), lang) as sources:
        # Reading and checking the files takes no lock and holds no transaction open (each
        # query sees what is committed; a SQLite reader's open transaction would hold other
        # writers' commits): the writers' lock is held only while the replies are recorded.
        issued_upto = _last_notice(conn)
        for source in sources:
            reason = (
                skip_reason(source.name, lang)
                if source.regular
                else t("diagnostic.skip.not_regular", lang)
            )
            if reason is not None:
                skipped.append(Skipped(source.name, reason, junk=is_junk(source.name)))
                continue
            checked = _check_file(conn, source, register, today, lang)
            if isinstance(checked, Skipped):
                skipped.append(checked)
                continue
            if checked.status == ACCEPTED and photos is not None:
                publish_reply(checked, photos)  # now: a batch's memory holds no photo bytes
            for photo in checked.photos:
                photo.data = photo.thumbnail = None
            replies.append(checked)
        order = sorted(replies, key=lambda r: (r.modified or datetime.min, r.file))
        with writing(conn):
            if _last_notice(conn) != issued_upto:
                # notices issued meanwhile: a reply to one they superseded is sent back
                for reply in order:
                    if reply.status == ACCEPTED:
                        _check_still_current(conn, reply, lang)
            now = datetime.now().isoformat(timespec="seconds")
            for reply in order:
                if reply.status != ACCEPTED:
                    continue
                if _record(conn, reply, today, now, lang):
                    recorded += 1
                else:
                    reply.already = True
                    already += 1
    replied = {r.notice_id for r in replies if r.status == ACCEPTED}
    missing = [e for e in (issued or []) if e.workbook_id not in replied]
    return Collected(replies, skipped, missing, today, recorded, already)
