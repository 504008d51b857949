"""Diagnostics: every problem found in a returned workbook (or an input file), as data.

A diagnostic carries a code and its parameters; its words come from the catalogue
(audit_xls/i18n, key `diagnostic.<code>`) when it is shown, so the CLI, the JSON output, the
summary workbook and the history render the same object in either language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_xls.i18n import DEFAULT_LANG, Clauses, Ref, t
from audit_xls.model.codes import Severity

ERROR, WARNING = Severity.ERROR, Severity.WARNING

Params = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity  # ERROR sends the workbook back; WARNING is noted on a graded one
    code: str  # stable machine code, e.g. "answer.invalid_points"
    text: str = ""  # fixed words, for a record without parameters (older histories); else ""
    file: str = ""
    sheet: str = ""
    cell: str = ""  # A1 name as a person sees it, "" when the problem has no cell
    params: Params = ()  # what the message says, language-neutral (str, int, lists, Ref)
    lang: str = DEFAULT_LANG  # the language `message` speaks (the run's)

    def render(self, lang: str) -> str:
        """What was found and what to do, in `lang`."""
        if self.text:
            return self.text
        return message(self.code, lang, **dict(self.params))

    @property
    def message(self) -> str:
        return self.render(self.lang)

    def location(self) -> str:
        parts = [p for p in (self.file, self.sheet, self.cell) if p]
        return " / ".join(parts)

    def to_json(self, lang: str | None = None) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.render(lang or self.lang),
            "sheet": self.sheet,
            "cell": self.cell,
        }


# Each code's severity; its words are the catalogue's `diagnostic.<code>` (and skip.* are the
# reasons a file in the returns was skipped, not read).
SEVERITY: dict[str, Severity] = {
    "file.empty": ERROR,
    "file.zip_member_encrypted": ERROR,
    "file.not_spreadsheet": ERROR,
    "file.encrypted": ERROR,
    "file.corrupt": ERROR,
    "file.et_unreadable": ERROR,
    "file.et_read": WARNING,
    "file.too_many_entries": ERROR,
    "file.too_large": ERROR,
    "file.compression_ratio": ERROR,
    "file.xml_doctype": ERROR,
    "file.sheet_too_large": ERROR,
    "file.sheet_unchecked": ERROR,
    "file.strings_too_large": ERROR,
    "cell.number_out_of_range": ERROR,
    "file.reader_failed": ERROR,
    "file.reader_timeout": ERROR,
    "manifest.missing": ERROR,
    "manifest.foreign": ERROR,
    "manifest.unknown_template": ERROR,
    "manifest.tampered": ERROR,
    "manifest.period": ERROR,
    "manifest.layout": ERROR,
    "manifest.visible": WARNING,
    "sheet.missing": ERROR,
    "sheet.missing_unscored": WARNING,
    "standard.unknown": ERROR,
    "issued.not_issued": ERROR,
    "issued.mismatch": ERROR,
    "cover.changed": ERROR,
    "cover.inspector_missing": ERROR,
    "cover.date_missing": ERROR,
    "cover.date_invalid": ERROR,
    "cover.date_outside": ERROR,
    "locked.changed": ERROR,
    "locked.rows_changed": ERROR,
    "locked.formula_edited": ERROR,
    "checklist.merged": ERROR,
    "checklist.hidden_rows": WARNING,
    "checklist.formulas_unchecked": WARNING,
    "answer.formula": ERROR,
    "answer.invalid_result": ERROR,
    "answer.invalid_points": ERROR,
    "answer.contradictory": ERROR,
    "answer.points_without_result": ERROR,
    "answer.fail_without_points": WARNING,
    "answer.fail_zero_points": WARNING,
    "answer.label_not_exact": WARNING,
    "answer.unanswered": ERROR,
    "duplicate.superseded": WARNING,
    "duplicate.kept": WARNING,
    "internal.error": ERROR,
    # a returned 整改通知单 (audit_xls/rectify/collect.py), and one given to grade
    "manifest.notice": ERROR,
    "reply.not_a_notice": ERROR,
    "reply.unknown_notice": ERROR,
    "reply.not_in_register": ERROR,
    "reply.other_standard": ERROR,
    "reply.register_mismatch": ERROR,
    "reply.superseded": ERROR,
    "reply.layout": ERROR,
    "reply.cover_changed": ERROR,
    "reply.rows_changed": ERROR,
    "reply.locked_changed": ERROR,
    "reply.formula": ERROR,
    "reply.status_missing": ERROR,
    "reply.status_invalid": ERROR,
    "reply.status_not_exact": WARNING,
    "reply.measure_missing": ERROR,
    "reply.remark_missing": ERROR,
    "reply.date_missing": ERROR,
    "reply.date_invalid": ERROR,
    "reply.date_before_inspection": ERROR,
    "reply.date_future": ERROR,
    "reply.problem_closed": WARNING,
    # the 复查 rows of an inspection workbook (audit_xls/rectify/recheck.py)
    "recheck.tampered": ERROR,
    "recheck.changed": ERROR,
    "recheck.formula": ERROR,
    "recheck.invalid": ERROR,
    "recheck.not_exact": WARNING,
    "recheck.unanswered": ERROR,
    # pictures (photo evidence): a picture not kept is a warning, never a sent-back workbook
    "picture.too_large": WARNING,
    "picture.file_limit": WARNING,
    "picture.too_many": WARNING,
    "picture.not_image": WARNING,
    "picture.broken": WARNING,
    "picture.pixels": WARNING,
    "picture.missing": WARNING,
    "picture.external": WARNING,
    "picture.unsupported": WARNING,
    "picture.unreadable": WARNING,
    "picture.no_criterion": WARNING,
    "reply.picture_no_problem": WARNING,  # an after-photo on no problem's row (rectify collect)
}


def message(code: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The catalogue message of `code` in `lang` ("zh" or "en"), filled with `params`."""
    return t(f"diagnostic.{code}", lang, **params)


def neutral(value: object) -> Any:
    """A parameter kept as it can be stored and rendered in any language later."""
    if isinstance(value, (str, int, Ref)) and not isinstance(value, bool):
        return value
    if isinstance(value, Clauses):
        return Clauses(neutral(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [neutral(v) for v in value]
    return str(value)


def pack(params: Mapping[str, object]) -> Params:
    return tuple((name, neutral(value)) for name, value in params.items())


def params_to_json(d: Diagnostic) -> str | None:
    """The parameters of `d` as JSON for the history (None when it has fixed words only)."""
    if d.text or d.code not in SEVERITY:
        return None
    return json.dumps({name: _encode(value) for name, value in d.params}, ensure_ascii=False)


def params_from_json(text: str | None) -> Params | None:
    """Parameters stored by params_to_json (None for a row without any)."""
    if not text:
        return None
    return tuple((name, _decode(value)) for name, value in json.loads(text).items())


def _encode(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"ref": value.key, "params": {k: _encode(v) for k, v in value.params}}
    if isinstance(value, Clauses):
        return {"clauses": [_encode(v) for v in value]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "ref" in value:
        return Ref(value["ref"], tuple((k, _decode(v)) for k, v in value["params"].items()))
    if isinstance(value, dict) and "clauses" in value:
        return Clauses(_decode(v) for v in value["clauses"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def make(
    code: str,
    lang: str = DEFAULT_LANG,
    *,
    file: str = "",
    sheet: str = "",
    cell: str = "",
    **params: object,
) -> Diagnostic:
    """A Diagnostic from the catalogue: its severity comes from `code`, its words when shown."""
    return Diagnostic(SEVERITY[code], code, "", file, sheet, cell, pack(params), lang)
