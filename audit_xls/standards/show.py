"""Showing a standard: the one-line description, the tree and the JSON of `standard show`."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from audit_xls.model.standard import Rule, Standard, dec_str

# --- showing a standard (standard check / show) ----------------------------------------------


def describe(std: Standard) -> str:
    """One line: id, version, counts, points and the short hash (what `standard check` prints)."""
    return (
        f"{std.label} · {len(std.sections)} 个一级指标 · {len(std.criteria)} 条检查标准 · "
        f"{dec_str(std.points)} 分 · 哈希 {std.content_hash[:12]}"
    )


def standard_json_text(std: Standard) -> str:
    """The --json text: points, units and caps as JSON numbers, digit for digit as written."""

    def mark(value: object) -> str:
        if isinstance(value, Decimal):
            return f"\0{dec_str(value)}\0"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    # a float would print 0.1 + 0.2 style noise; the marked decimal text goes in unquoted
    text = json.dumps(standard_to_json(std), ensure_ascii=False, indent=2, default=mark)
    return re.sub(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"', r"\1", text)


def standard_to_json(std) -> dict:
    """The standard as a JSON-ready tree; points, units and caps stay Decimal."""

    def rule(r: Rule) -> dict:
        return {**r.canonical(), "unit": r.unit, "cap": r.cap, "phrase": r.phrase()}

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


def standard_tree(std: Standard) -> list[str]:
    """The tree `standard show` prints: sections, groups, rules and what is assumed."""

    def mark(note: str | None) -> str:
        return f"  [假定] {note}" if note else ""

    bands = " ".join(f"{n}≥{dec_str(m)}" for n, m in std.grade_bands)
    lines = [
        f"{std.name} ({std.label}){mark(std.assumed)}",
        f"哈希 {std.content_hash}",
        f"{len(std.sections)} 个一级指标 · {sum(len(s.groups) for s in std.sections)} 个二级指标"
        f" · {len(std.criteria)} 条检查标准 · {dec_str(std.points)} 分 · 等级 {bands}",
    ]
    for s in std.sections:
        lines.append(
            f"{s.code} {s.name} {dec_str(s.points)}分 · {len(s.criteria)} 条{mark(s.assumed)}"
        )
        for g in s.groups:
            name = g.name or "（无二级指标）"
            points = f" {dec_str(g.points)}分" if g.points is not None else ""
            lines.append(
                f"  {name}{points} · {len(g.criteria)} 条 · {g.method} · {g.rule.phrase()}"
                f"{mark(g.assumed)}"
            )
            for c in g.criteria:
                if c.own_rule or c.assumed:
                    own = f" · {c.rule.phrase()}" if c.own_rule else ""
                    lines.append(f"    {c.code}{own}{mark(c.assumed)}")
    return lines
