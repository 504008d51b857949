"""The inspection standard as data: the model and its content hash (pure: no files, no YAML).

Reading, checking and saving standard files is audit_xls/standards/loader.py; the 扣分标准
phrases standards/phrases.py; showing a standard standards/show.py.

A standard is sections (一级指标) with points, holding groups (二级指标) that share a check
method (检查方法) and a deduction rule (扣分标准), holding numbered criteria (检查标准).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path

from audit_xls.rectify.policy import Rectification

RULE_KINDS = ("per_point", "per_person_point", "per_place", "per_item", "veto")
VETO_SCOPES = ("section", "inspection")

DEFAULT_GRADE_BANDS: tuple[tuple[str, Decimal], ...] = (
    ("优秀", Decimal(90)),
    ("良好", Decimal(80)),
    ("合格", Decimal(70)),
    ("不合格", Decimal(0)),
)


def dec_str(value: Decimal) -> str:
    """Canonical text of a decimal: 0.50 -> '0.5', 10.0 -> '10'."""
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class Rule:
    """How a failed criterion is deducted.

    per_point / per_person_point / per_place: problem points x unit, capped by `cap`.
    per_item: `unit` once when the criterion fails, whatever the count.
    veto: failing zeroes the section or the whole inspection (`scope`).
    """

    kind: str
    unit: Decimal | None = None
    cap: Decimal | None = None
    scope: str | None = None

    @property
    def is_veto(self) -> bool:
        return self.kind == "veto"

    @property
    def counts_points(self) -> bool:
        return self.kind in ("per_point", "per_person_point", "per_place")

    def phrase(self, lang: str = "zh") -> str:
        """The 扣分标准 text shown in workbooks (in the template's language) and written to HQ's
        table and the standard file (Chinese): standards/phrases.py reads both back."""
        return _phrase(self, lang)

    def canonical(self) -> dict:
        return {
            "kind": self.kind,
            "unit": dec_str(self.unit) if self.unit is not None else None,
            "cap": dec_str(self.cap) if self.cap is not None else None,
            "scope": self.scope,
        }


@cache
def _phrase(rule: Rule, lang: str) -> str:
    from audit_xls.i18n import t

    if rule.kind == "veto":
        return t(f"rule.veto.{'section' if rule.scope == 'section' else 'inspection'}", lang)
    unit = dec_str(rule.unit) if rule.unit is not None else "?"
    head = t(f"rule.{rule.kind}", lang, unit=unit)
    if rule.cap is not None:
        head += t("rule.cap", lang, cap=dec_str(rule.cap))
    return head


@dataclass(frozen=True)
class Criterion:
    code: str
    text: str
    rule: Rule
    """The effective rule: the criterion's own, or its group's."""
    own_rule: bool = False
    assumed: str | None = None


@dataclass(frozen=True)
class Group:
    name: str | None
    method: str
    rule: Rule
    criteria: tuple[Criterion, ...]
    points: Decimal | None = None
    assumed: str | None = None


@dataclass(frozen=True)
class Section:
    code: str
    name: str
    points: Decimal
    groups: tuple[Group, ...]
    assumed: str | None = None

    @cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for g in self.groups for c in g.criteria)


@dataclass(frozen=True)
class Standard:
    id: str
    name: str
    version: str
    sections: tuple[Section, ...]
    grade_bands: tuple[tuple[str, Decimal], ...] = DEFAULT_GRADE_BANDS
    description: str | None = None
    source: str | None = None
    path: Path | None = field(default=None, compare=False)
    assumed: str | None = None
    # 整改期限 policy (audit_xls/rectify/policy.py); not part of the content hash
    rectification: Rectification | None = None

    @cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for s in self.sections for c in s.criteria)

    @cached_property
    def inspection_vetoes(self) -> tuple[str, ...]:
        """Codes of the criteria whose failure zeroes the whole inspection."""
        vetoes = (c for c in self.criteria if c.rule.is_veto and c.rule.scope == "inspection")
        return tuple(c.code for c in vetoes)

    @property
    def points(self) -> Decimal:
        return sum((s.points for s in self.sections), Decimal(0))

    def grade_for(self, percent: Decimal) -> str:
        for name, minimum in self._bands_high_first:
            if percent >= minimum:
                return name
        return self.grade_bands[-1][0]

    @cached_property
    def _bands_high_first(self) -> tuple[tuple[str, Decimal], ...]:
        return tuple(sorted(self.grade_bands, key=lambda band: band[1], reverse=True))

    @cached_property
    def content_hash(self) -> str:
        return content_hash(self)

    @property
    def label(self) -> str:
        return f"{self.id} v{self.version}"


def canonical_content(standard: Standard) -> dict:
    """What the content hash covers: codes, texts, points, rules, grade bands.

    Identity and commentary (id, name, version, description, source, assumption notes) are
    left out, so a table exported and imported back hashes the same.
    """
    return {
        "sections": [
            {
                "code": s.code,
                "name": s.name,
                "points": dec_str(s.points),
                "groups": [
                    {
                        "name": g.name,
                        "points": dec_str(g.points) if g.points is not None else None,
                        "method": g.method,
                        "rule": g.rule.canonical(),
                        "criteria": [
                            {"code": c.code, "text": c.text, "rule": c.rule.canonical()}
                            for c in g.criteria
                        ],
                    }
                    for g in s.groups
                ],
            }
            for s in standard.sections
        ],
        "grade_bands": [[name, dec_str(minimum)] for name, minimum in standard.grade_bands],
    } | _recheck_rule(standard)


def _recheck_rule(standard: Standard) -> dict:
    """The optional 复查 rule (rectify/policy.py) counts in the hash only when it is on, so
    every standard without it keeps its hash."""
    rule = standard.rectification.recheck_deduction if standard.rectification else None
    return {} if rule is None else {"recheck_deduction": dec_str(rule)}


def content_hash(standard: Standard) -> str:
    payload = json.dumps(canonical_content(standard), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
