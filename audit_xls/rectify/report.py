"""What `rectify collect` writes: the replies workbook, the --json document, the account lines."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

from audit_xls.i18n import entry as labels_of
from audit_xls.i18n import t
from audit_xls.outputs.xlsx import Column, add_table_sheet, write_workbook
from audit_xls.rectify.collect import ACCEPTED, Collected, Reply
from audit_xls.rectify.ledger import CANNOT_FIX, CLAIMED, IN_PROGRESS, status_label


def _counts(reply: Reply) -> tuple[int, int, int, int]:
    statuses = [r.status for r in reply.rows]
    late = sum(1 for r in reply.rows if r.late)
    return statuses.count(CLAIMED), statuses.count(IN_PROGRESS), statuses.count(CANNOT_FIX), late


def _result(reply: Reply, lang: str) -> str:
    if reply.status != ACCEPTED:
        return t("rectify.report.sent_back", lang)
    return t("rectify.report.already" if reply.already else "rectify.report.accepted", lang)


def reply_rows(collected: Collected, lang: str) -> list[list[Any]]:
    rows = []
    for reply in collected.replies:
        fixed, progress, cannot, late = _counts(reply)
        rows.append(
            [reply.file, reply.site_code, reply.site_name, reply.region, reply.period_text,
             reply.notice_id, _result(reply, lang), len(reply.rows) if reply.rows else None,
             fixed, progress, cannot, late, reply.responder]
        )  # fmt: skip
    return rows


def problem_rows(collected: Collected, lang: str) -> list[list[Any]]:
    yes = t("rectify.report.yes", lang)
    return [
        [reply.site_code, reply.site_name, str(row.found_period), row.code, row.text, row.deadline,
         status_label(row.status, lang), row.measure, row.owner, row.done_date, row.remark,
         yes if row.late else "", reply.file]
        for reply in collected.accepted
        for row in reply.rows
    ]  # fmt: skip


def write_report(path: str | Path, collected: Collected, lang: str = "zh") -> None:
    """The replies workbook: 回复汇总, 整改回复, 退回清单, 未回复, 跳过文件 (Excel Tables)."""
    created = datetime.combine(collected.replied_on, time())
    title = t("rectify.report.title", lang, day=collected.replied_on.isoformat())

    def build(book: Any, formats: Any) -> None:
        def columns(key: str, kinds: dict[int, str], widths: dict[int, float]) -> list[Column]:
            return [
                Column(h, kinds.get(i, "text"), widths.get(i, 12))
                for i, h in enumerate(labels_of(key, lang))
            ]

        sheet = lambda key: t(f"rectify.report.sheets.{key}", lang)  # noqa: E731
        add_table_sheet(
            book,
            formats,
            sheet("replies"),
            "Replies",
            columns(
                "rectify.report.replies",
                {7: "int", 8: "int", 9: "int", 10: "int", 11: "int"},
                {0: 36, 5: 18},
            ),
            reply_rows(collected, lang),
            title=title,
        )
        add_table_sheet(
            book,
            formats,
            sheet("rows"),
            "ReplyRows",
            columns("rectify.report.rows", {9: "date"}, {4: 40, 7: 30, 10: 24, 12: 30}),
            problem_rows(collected, lang),
        )
        add_table_sheet(
            book,
            formats,
            sheet("sent_back"),
            "RepliesSentBack",
            columns("rectify.report.sent_back_columns", {}, {0: 36, 5: 80}),
            [
                [r.file, r.site_code, r.period_text, d.sheet, d.cell, d.render(lang)]
                for r in collected.sent_back
                for d in r.errors
            ],
        )
        add_table_sheet(
            book,
            formats,
            sheet("missing"),
            "NotReplied",
            columns("rectify.report.missing", {}, {4: 18, 5: 36}),
            [
                [e.site_code, e.site_name, e.region, str(e.period), e.workbook_id, e.file]
                for e in collected.missing
            ],
        )
        add_table_sheet(
            book, formats, sheet("skipped"), "RepliesSkipped",
            columns("rectify.report.skipped", {}, {0: 36, 1: 80}),
            [[s.file, s.reason] for s in collected.skipped],
        )  # fmt: skip

    write_workbook(path, build, created=created, title=title)


def to_json(collected: Collected, lang: str = "zh") -> dict[str, Any]:
    return {
        "replied_on": collected.replied_on.isoformat(),
        "replies": [
            {
                "file": r.file,
                "status": r.status,
                "already_recorded": r.already,
                "notice_id": r.notice_id,
                "site_code": r.site_code,
                "site_name": r.site_name,
                "region": r.region,
                "period": r.period_text,
                "responder": r.responder,
                "problems": [
                    {
                        "problem": row.problem,
                        "code": row.code,
                        "found_period": str(row.found_period),
                        "deadline": row.deadline,
                        "status": row.status,
                        "measure": row.measure,
                        "owner": row.owner,
                        "date": row.done_date.isoformat() if row.done_date else None,
                        "remark": row.remark,
                        "late": row.late,
                        "photos": [  # after-photos kept from 整改照片
                            {
                                "sha256": p.sha256,
                                "cell": p.cell,
                                "stored_as": p.how,
                                "width": p.width,
                                "height": p.height,
                                "path": p.location or None,
                            }
                            for p in r.photos
                            if p.criterion == row.problem
                        ],
                    }
                    for row in r.rows
                ],
                "diagnostics": [d.to_json(lang) for d in r.diagnostics],
            }
            for r in collected.replies
        ],
        "not_replied": [
            {
                "notice_id": e.workbook_id,
                "site_code": e.site_code,
                "period": str(e.period),
                "file": e.file,
            }
            for e in collected.missing
        ],
        "skipped": [{"file": s.file, "reason": s.reason} for s in collected.skipped],
        "summary": {
            "read": len(collected.replies),
            "accepted": len(collected.accepted),
            "sent_back": len(collected.sent_back),
            "skipped": len(collected.skipped),
            "not_replied": len(collected.missing),
            "recorded": collected.recorded,
            "already_recorded": collected.already,
        },
    }


def account_lines(collected: Collected, out: str, lang: str = "zh") -> list[str]:
    lines = [collected.message(lang), t("rectify.collect.report", lang, out=out)]
    for reply in collected.sent_back:
        for d in reply.errors:
            where = "!".join(p for p in (d.sheet, d.cell) if p)
            lines.append(
                t("rectify.collect.sent_back", lang, file=reply.file, where=where,
                  message=d.render(lang))
            )  # fmt: skip
    return lines
