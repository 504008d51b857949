"""How long a site has to fix a problem (整改期限): the standard's `rectification` block.

    rectification:
      days: 7                  # after 检查日期, for every criterion
      assumed: ...             # why, when the source document does not say
      overrides: {"2": 14, "1.1.03": 3}   # a section or criterion code -> days

A criterion's own override wins over its section's; otherwise the standard's days. A
standard without the block gets DEFAULT_DAYS, marked assumed. The block is policy, not
content: it is left out of the content hash, so workbooks already issued stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from audit_xls.i18n.forms import Ref

# The 整改通知单's templates live under templates/notice/: a manifest naming one is a notice.
NOTICE_TEMPLATE_PREFIX = "notice/"
DEFAULT_DAYS = 7
# Why the default applies, in the reader's language (render_value(policy.assumed, lang)).
DEFAULT_ASSUMED = Ref.to("standard.rectification.default_assumed", days=DEFAULT_DAYS)
RECTIFICATION_KEYS = ("days", "assumed", "overrides", "recheck_deduction")
# 复查 rows a workbook can hold: the section formulas count 未整改 over this many rows.
MAX_RECHECK_ROWS = 200
MAX_DAYS = 366


@dataclass(frozen=True)
class Rectification:
    """The standard's rectification policy: days after the inspection, per code overrides."""

    days: int = DEFAULT_DAYS
    assumed: str | Ref | None = None  # HQ's words, or DEFAULT_ASSUMED
    overrides: tuple[tuple[str, int], ...] = field(default=())
    # HQ's optional rule: each problem found not fixed at 复查 (未整改) adds this deduction to
    # its criterion's section, capped by the section (扣完为止). None: off. Part of the
    # content hash when on (it changes scores and formulas).
    recheck_deduction: Decimal | None = None

    def days_for(self, criterion_code: str, section_code: str) -> int:
        found = dict(self.overrides)
        if criterion_code in found:
            return found[criterion_code]
        return found.get(section_code, self.days)

    def deadline(self, criterion_code: str, section_code: str, inspected: date) -> date:
        return inspected + timedelta(days=self.days_for(criterion_code, section_code))

    def to_mapping(self) -> dict[str, Any]:
        data: dict[str, Any] = {"days": self.days}
        if self.assumed:
            data["assumed"] = self.assumed
        if self.overrides:
            data["overrides"] = dict(self.overrides)
        if self.recheck_deduction is not None:
            number = self.recheck_deduction
            data["recheck_deduction"] = (
                int(number) if number == number.to_integral_value() else float(number)
            )
        return data


DEFAULT_POLICY = Rectification(DEFAULT_DAYS, DEFAULT_ASSUMED)


def policy_of(standard: Any) -> Rectification:
    """The standard's policy, or the default (7 days, assumed) when it has none."""
    return getattr(standard, "rectification", None) or DEFAULT_POLICY


def parse_rectification(checker: Any, node: Any, codes: set[str]) -> Rectification | None:
    """The `rectification` block of a standard file; problems located through the loader's
    checker (file, line, key path), like every other key of a standard."""
    import yaml

    path = "rectification"
    keys = checker.mapping(node, path, RECTIFICATION_KEYS, ("days",), "rectification")
    if keys is None:
        return None
    days = _days(checker, keys.get("days"), f"{path}.days") if "days" in keys else None
    assumed = checker.optional_text(keys.get("assumed"), f"{path}.assumed", "assumed")
    overrides: list[tuple[str, int]] = []
    if "overrides" in keys:
        over = keys["overrides"]
        if not isinstance(over, yaml.MappingNode):
            checker.problem(over, f"{path}.overrides", "rectification.overrides_not_mapping")
        else:
            for key_node, value_node in over.value:
                code = str(key_node.value).strip()
                where = f"{path}.overrides.{code}"
                if code not in codes:
                    checker.problem(key_node, where, "rectification.code_unknown", code=code)
                    continue
                value = _days(checker, value_node, where)
                if value is not None:
                    overrides.append((code, value))
    extra = None
    if "recheck_deduction" in keys:
        extra = checker.number(
            keys["recheck_deduction"], f"{path}.recheck_deduction", "recheck_deduction"
        )
        if extra is None:
            return None
    if days is None:
        return None
    return Rectification(days, assumed, tuple(overrides), extra)


def _days(checker: Any, node: Any, path: str) -> int | None:
    value: Decimal | None = checker.number(node, path, "days")
    if value is None:
        return None
    if value != value.to_integral_value() or value > MAX_DAYS:
        checker.problem(node, path, "rectification.days_whole", value=node.value, limit=MAX_DAYS)
        return None
    return int(value)
