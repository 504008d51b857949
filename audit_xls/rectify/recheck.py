"""复查: the problems not yet closed, re-checked at the site's next inspection.

`build --history H` lists, below the checklist of a site's workbook, every problem of that
site (same standard, earlier months) that is not closed: what was found, the deadline, the
site's reply, and a 复查结果 dropdown (已整改 / 未整改) with a 复查说明. The rows' locked texts
and problem ids go into the manifest after the criterion rows (`R<row>` rows and a checksum of
their own), so `grade` checks them like any locked content. 复查结果 sits in the checklist's
answer column (G) and 复查说明 in its note column (J): read.py's scan for typed formulas covers
both. `grade` reads the verdicts; recording them closes (已整改, verified) or reopens (未整改, a
repeat, with a new deadline) the problem (ledger.record_rechecks).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit_xls.i18n import DEFAULT_LANG
from audit_xls.model.codes import RecheckVerdict
from audit_xls.model.period import Period
from audit_xls.rectify import ledger
from audit_xls.rectify.ledger import UNCLOSED, ProblemState
from audit_xls.workbook.layout import Col, cell, recheck_first_row

FIXED, NOT_FIXED = RecheckVerdict.FIXED, RecheckVerdict.NOT_FIXED
VERDICTS = tuple(RecheckVerdict)
RECHECK_LIST_NAME = "RecheckList"
HEADER_KEY = "recheck"
CHECKSUM_KEY = "recheck_checksum"
ROW_PREFIX = "R"
# The 复查 rows' locked columns, as laid out under the checklist's columns.
LOCKED = (Col.CODE, Col.SECTION, Col.GROUP, Col.TEXT, Col.METHOD, Col.RULE)


@dataclass(frozen=True)
class RecheckItem:
    """One problem to re-check, with the texts its row shows (picklable for build's pool)."""

    problem: str
    code: str
    period: Period  # the month it was found in
    deadline: str
    text: str
    note: str
    reply: str
    measure: str


def items_for(states: Sequence[ProblemState], lang: str = DEFAULT_LANG) -> tuple[RecheckItem, ...]:
    """The problems to re-check, oldest first; the site's reply worded in `lang` (the
    workbook's language)."""
    out = []
    for p in sorted(states, key=lambda s: (s.period, s.code)):
        if p.status not in UNCLOSED:
            continue
        reply = ledger.status_label(p.status, lang)
        if p.replied_on:
            reply += f" {p.done_date or p.replied_on}"
        out.append(
            RecheckItem(
                p.id,
                p.code,
                p.period,
                p.deadline or "",
                p.text,
                p.note,
                reply,
                p.measure or p.reply_note,
            )
        )
    return tuple(out)


def plan_rechecks(
    history: Any,
    standard_id: str,
    period: Period,
    sites: Sequence[str],
    lang: str = DEFAULT_LANG,
) -> dict[str, tuple[RecheckItem, ...]]:
    """Site code -> the problems of earlier months to re-check in `period` (sites with none
    are left out), worded in `lang`. A history without a ledger gives nothing."""
    from audit_xls.history.store import has_ledger, read_connection

    with read_connection(history) as conn:
        if not has_ledger(conn):
            return {}
        states = ledger.replay(
            conn, where="p.standard_id = ? AND p.period < ?", params=(standard_id, period)
        )
    by_site: dict[str, list[ProblemState]] = {}
    for state in states.values():
        if state.site_code in sites:
            by_site.setdefault(state.site_code, []).append(state)
    from audit_xls.rectify.policy import MAX_RECHECK_ROWS

    # the oldest first; a site with more than the workbook holds gets the oldest ones
    plans = {code: items_for(found, lang)[:MAX_RECHECK_ROWS] for code, found in by_site.items()}
    return {code: items for code, items in plans.items() if items}


def first_row(last_item_row: int) -> int:
    """The 复查 heading's row: one blank row below the last criterion (layout.py)."""
    return recheck_first_row(last_item_row)


def row_texts(item: RecheckItem, labels: Any) -> tuple[str, ...]:
    """The locked texts of a 复查 row; `labels`: the template's `recheck` block."""
    found = labels["found"].format(note=item.note or "-")
    return (
        item.code,
        str(item.period),
        item.deadline,
        f"{item.text}\n{found}",
        item.reply,
        item.measure,
    )


def checksum(workbook_id: str, rows: Sequence[Sequence[str]]) -> str:
    payload = json.dumps([workbook_id, [list(r) for r in rows]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def manifest_rows(
    workbook_id: str, items: Sequence[RecheckItem], start: int, labels: Any
) -> list[list[str]]:
    """The manifest rows after the criteria: a header, one row per problem, the checksum."""
    rows = [
        [
            f"{ROW_PREFIX}{start + 2 + i + 1}",
            item.problem,
            json.dumps(row_texts(item, labels), ensure_ascii=False),
        ]
        for i, item in enumerate(items)
    ]
    return [[HEADER_KEY, "problem", "texts"], *rows, [CHECKSUM_KEY, checksum(workbook_id, rows)]]


def write_section(
    book: Any,
    layout: Any,
    formats: Any,
    items: Sequence[RecheckItem],
    workbook_id: str,
    manifest_start: int,
) -> None:
    """Write the 复查 rows under the checklist, their list and their manifest rows (build's
    hook, before the workbook is closed)."""
    sheet = book.get_worksheet_by_name(layout.checklist_sheet)
    start = first_row(layout.last_item_row)
    last_col = max(Col)
    labels = layout.template["recheck"]
    heading = labels["heading"].format(count=len(items))
    sheet.merge_range(start, 0, start, last_col, heading, formats.section)
    headers = labels["headers"]
    for col, label in enumerate(headers):
        sheet.write_string(start + 1, col, label, formats.header)
    for i, item in enumerate(items):
        r = start + 2 + i
        for col, text in zip(LOCKED, row_texts(item, labels), strict=True):
            sheet.write_string(r, col, text, formats.item)
        sheet.write_blank(r, Col.RESULT, None, formats.input)
        sheet.write_blank(r, Col.POINTS, None, formats.locked)
        sheet.write_blank(r, Col.DEDUCTION, None, formats.locked)
        sheet.write_blank(r, Col.NOTE, None, formats.input_text)
        sheet.set_row(r, 48)
    first, last = start + 2, start + 1 + len(items)
    v = labels["validation"]
    sheet.data_validation(
        first,
        Col.RESULT,
        last,
        Col.RESULT,
        {
            "validate": "list",
            "source": f"={RECHECK_LIST_NAME}",
            "input_title": v[0],
            "input_message": v[1],
            "error_title": v[0],
            "error_message": v[2],
        },
    )
    sheet.conditional_format(
        first,
        Col.RESULT,
        last,
        Col.RESULT,
        {
            "type": "formula",
            "criteria": f"=LEN({cell(first, Col.RESULT)})=0",
            "format": formats.unanswered,
        },
    )
    sheet.print_area(0, 0, last, last_col)
    lists = book.get_worksheet_by_name("_lists")
    for i, verdict in enumerate(VERDICTS):
        lists.write_string(i, 1, labels["verdicts"][verdict])
    book.define_name(RECHECK_LIST_NAME, f"=_lists!$B$1:$B${len(VERDICTS)}")
    manifest = book.get_worksheet_by_name("_manifest")
    for offset, row in enumerate(manifest_rows(workbook_id, items, start, labels)):
        for col, value in enumerate(row):
            manifest.write_string(manifest_start + offset, col, value)


# --- grade: reading the verdicts ------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    problem: str
    code: str
    verdict: RecheckVerdict  # FIXED | NOT_FIXED
    note: str


def not_fixed_by_section(standard: Any, verdicts: Sequence[Verdict]) -> dict[str, int]:
    """Section code -> problems found not fixed (for the scorer's optional 复查 rule)."""
    sections = {c.code: s.code for s in standard.sections for c in s.criteria}
    counts: dict[str, int] = {}
    for verdict in verdicts:
        if verdict.verdict == NOT_FIXED and verdict.code in sections:
            section = sections[verdict.code]
            counts[section] = counts.get(section, 0) + 1
    return counts


def read_choice(
    add: Callable[..., None],
    choices: Any,
    typed: Any,
    where: dict[str, Any],
    *,
    codes: tuple[str, str],
    labels: list[str],
    label_of: Mapping[Any, str],
) -> tuple[Any, bool]:
    """A dropdown cell of a 复查 row or of a reply's row read against its list (Choices): the
    same label but for case, width or spaces is read with a warning (codes[1], the label as
    listed); text that is none of them is an error (codes[0], the labels listed) and gives
    (None, False); otherwise (the value, or None when nothing was typed; True). `where`: the
    diagnostic's sheet, cell_name and item."""
    from audit_xls.grading.validate import clip, text_of

    value, how = choices.read(typed)
    if how == "invalid":
        add(codes[0], **where, found=clip(text_of(typed), 40), labels=labels)
        return None, False
    if how == "loose":
        add(codes[1], **where, found=clip(text_of(typed), 40), label=label_of[value])
    return value, True


def check_section(run: Any, plan: Any) -> list[Verdict]:
    """The 复查 rows of a returned workbook (validate's hook): the manifest's list checked,
    the locked texts compared, every verdict read; diagnostics added through `run`."""
    from audit_xls.grading.validate import Choices, expected_found, text_of

    extra = list(getattr(run.raw.manifest, "extra", ()))
    if not extra:
        return []
    sheet = run.checklist
    rows = [r for r in extra if r and r[0].startswith(ROW_PREFIX) and r[0][1:].isdigit()]
    found_sum = next((r[1] for r in extra if r and r[0] == CHECKSUM_KEY and len(r) > 1), "")
    workbook_id = run.raw.manifest.values.get("workbook_id", "")
    padded = [[*r, "", ""][:3] for r in rows]
    if found_sum != checksum(workbook_id, padded):
        run.add("recheck.tampered", sheet="_manifest")
        return []
    words = run.template["recheck"]["verdicts"]
    labels = {words[v]: v for v in VERDICTS}
    choices = Choices(labels)
    formulas = run.raw.input_formulas or set()
    verdicts: list[Verdict] = []
    unanswered: list[tuple[str, str]] = []
    changed = []
    for key, problem, texts in padded:
        r = int(key[1:]) - 1
        expected = json.loads(texts) if texts else []
        for col, value in zip(LOCKED, expected, strict=False):
            found = text_of(run.raw.value(r, col))
            if found != value:
                changed.append((r, col, value, found))
        code = expected[0] if expected else ""
        if any((r, int(c)) in formulas for c in (Col.RESULT, Col.NOTE)):
            run.add("recheck.formula", sheet=sheet, cell_name=cell(r, Col.RESULT), item=code)
            continue
        where = {"sheet": sheet, "cell_name": cell(r, Col.RESULT), "item": code}
        verdict, ok = read_choice(
            run.add, choices, run.raw.value(r, Col.RESULT), where,
            codes=("recheck.invalid", "recheck.not_exact"), labels=list(labels), label_of=words,
        )  # fmt: skip
        if not ok:
            continue
        if verdict is None:
            unanswered.append((code, cell(r, Col.RESULT)))
            continue
        note = text_of(run.raw.value(r, Col.NOTE)).strip()
        verdicts.append(Verdict(problem, code, verdict, note))
    if changed:
        from audit_xls.i18n import Clauses

        examples = Clauses(expected_found(cell(r, c), e, f) for r, c, e, f in changed[:5])
        run.add(
            "recheck.changed",
            sheet=sheet,
            cell_name=cell(changed[0][0], changed[0][1]),
            count=len(changed),
            examples=examples,
        )
    if unanswered:
        from audit_xls.i18n import Ref

        run.add(
            "recheck.unanswered",
            sheet=sheet,
            cell_name=unanswered[0][1],
            count=len(unanswered),
            cells=[Ref.to("format.code_at", code=c, where=w) for c, w in unanswered[:20]],
        )
    return verdicts
