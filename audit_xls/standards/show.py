"""Showing a standard: the one-line description, the tree and the JSON of `standard show`."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from audit_xls.i18n import DEFAULT_LANG, t
from audit_xls.model.standard import Rule, Standard, dec_str

# --- showing a standard (standard check / show) ----------------------------------------------


def describe(std: Standard, lang: str = DEFAULT_LANG) -> str:
    """One line: id, version, counts, points and the short hash (what `standard check` prints)."""
    return " · ".join(
        (
            std.label,
            t("standard.show.sections", lang, count=len(std.sections)),
            t("standard.show.criteria", lang, count=len(std.criteria)),
            t("standard.show.points", lang, points=dec_str(std.points)),
            t("standard.show.hash", lang, hash=std.content_hash[:12]),
        )
    )


def standard_json_text(std: Standard, lang: str = DEFAULT_LANG) -> str:
    """The --json text: points, units and caps as JSON numbers, digit for digit as written."""

    def mark(value: object) -> str:
        if isinstance(value, Decimal):
            return f"\0{dec_str(value)}\0"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    # a float would print 0.1 + 0.2 style noise; the marked decimal text goes in unquoted
    text = json.dumps(standard_to_json(std, lang), ensure_ascii=False, indent=2, default=mark)
    return re.sub(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"', r"\1", text)


def standard_to_json(std, lang: str = DEFAULT_LANG) -> dict:
    """The standard as a JSON-ready tree; points, units and caps stay Decimal; a rule's phrase
    in `lang` (the keys are English and stable)."""

    def rule(r: Rule) -> dict:
        return {**r.canonical(), "unit": r.unit, "cap": r.cap, "phrase": r.phrase(lang)}

    return {
        "id": std.id,
        "name": std.name,
        "version": std.version,
        "hash": std.content_hash,
        "points": std.points,
        "criteria": len(std.criteria),
        "assumed": std.assumed,
        "grade_bands": [{"name": n, "min": m} for n, m in std.grade_bands],
        "sections": [
            {
                "code": s.code,
                "name": s.name,
                "points": s.points,
                "criteria": len(s.criteria),
                "assumed": s.assumed,
                "groups": [
                    {
                        "name": g.name,
                        "points": g.points,
                        "method": g.method,
                        "rule": rule(g.rule),
                        "assumed": g.assumed,
                        "criteria": [
                            {
                                "code": c.code,
                                "text": c.text,
                                "rule": rule(c.rule),
                                "own_rule": c.own_rule,
                                "assumed": c.assumed,
                            }
                            for c in g.criteria
                        ],
                    }
                    for g in s.groups
                ],
            }
            for s in std.sections
        ],
    }


def standard_tree(std: Standard, lang: str = DEFAULT_LANG) -> list[str]:
    """The tree `standard show` prints: sections, groups, rules and what is assumed."""

    def mark(note: str | None) -> str:
        return t("standard.show.assumed", lang, note=note) if note else ""

    def points(value) -> str:
        return t("standard.show.points", lang, points=dec_str(value))

    def items(count: int) -> str:
        return t("standard.show.items", lang, count=count)

    bands = " ".join(f"{n}≥{dec_str(m)}" for n, m in std.grade_bands)
    lines = [
        f"{std.name} ({std.label}){mark(std.assumed)}",
        t("standard.show.hash", lang, hash=std.content_hash),
        " · ".join(
            (
                t("standard.show.sections", lang, count=len(std.sections)),
                t("standard.show.groups", lang, count=sum(len(s.groups) for s in std.sections)),
                t("standard.show.criteria", lang, count=len(std.criteria)),
                points(std.points),
                t("standard.show.bands", lang, bands=bands),
            )
        ),
    ]
    for s in std.sections:
        lines.append(
            f"{s.code} {s.name} {t('standard.show.section_points', lang, points=dec_str(s.points))}"
            f" · {items(len(s.criteria))}{mark(s.assumed)}"
        )
        for g in s.groups:
            name = g.name or t("standard.show.no_group", lang)
            extra = ""
            if g.points is not None:
                extra = " " + t("standard.show.section_points", lang, points=dec_str(g.points))
            lines.append(
                f"  {name}{extra} · {items(len(g.criteria))} · {g.method} · {g.rule.phrase(lang)}"
                f"{mark(g.assumed)}"
            )
            for c in g.criteria:
                if c.own_rule or c.assumed:
                    own = f" · {c.rule.phrase(lang)}" if c.own_rule else ""
                    lines.append(f"    {c.code}{own}{mark(c.assumed)}")
    return lines


def check_lines(
    files: list[str] | tuple[str, ...], lang: str = DEFAULT_LANG
) -> tuple[list[str], int]:
    """`standard check`: a summary line per valid file, every located problem of the others,
    and a closing count when any failed; the lines and how many files failed."""
    from audit_xls.standards.loader import StandardError, load_standard

    lines: list[str] = []
    failed = 0
    for file in files:
        try:
            std = load_standard(file)
        except StandardError as error:
            failed += 1
            lines += [problem.text(lang) for problem in error.problems]
            continue
        lines.append(f"{file}: {describe(std, lang)}")
    if failed:
        lines.append(t("cli.standard.check_failed", lang, failed=failed, count=len(files)))
    return lines, failed
