"""扣分标准 phrases: HQ's words for a deduction rule, read into a Rule.

Chinese as HQ writes them (一个问题点扣0.5分，最高扣2分) and English as an English workbook
shows them (0.5 off per problem point, at most 2 off): Rule.phrase(lang) writes either.
"""

from __future__ import annotations

import re
from decimal import Decimal

from audit_xls.i18n import Ref, Said
from audit_xls.model.standard import Rule

# --- deduction-rule phrases (扣分标准) -------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
# each per-unit rule kind once, with its words in either language: HQ's Chinese as written,
# and the English read lower-cased with the spaces gone ("0.5offperproblempoint"); N the unit
_PER_UNIT = {
    "per_person_point": (r"(?:每)?一人一个问题点扣N分", r"Noffperpersonperproblempoint"),
    "per_point": (r"(?:每|一)个问题点扣N分", r"Noffperproblempoint"),
    "per_place": (r"(?:每发现|发现)?(?:每|一)处(?:不符合|问题)?扣N分", r"Noffperplace"),
    "per_item": (r"(?:每|一)项(?:不符合|不合格)?扣N分", r"Noffperitem"),
}


def _per_unit(language: int) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (kind, re.compile("^" + words[language].replace("N", _NUM) + "$"))
        for kind, words in _PER_UNIT.items()
    )


_PHRASES = _per_unit(0)
_CAP = re.compile(rf"^最(?:高|多)扣{_NUM}分$")
_VETO = re.compile(r"^否决项[:：]\s*出现即(本一级指标|本次检查)不得分$")
_PHRASES_EN = _per_unit(1)
_CAP_EN = re.compile(rf"^atmost{_NUM}off$")
_UNTIL_NONE_LEFT = ("扣完为止", "untilnoneisleft")
_VETO_EN = re.compile(r"^veto:the(section|wholeinspection)scoresnothing$")


class RulePhraseError(Said, ValueError):
    """Raised when a 扣分标准 phrase is not one audit-xls understands."""

    def ref(self) -> Ref:
        """The error's words as a parameter of a longer message."""
        return Ref(self.key, tuple(self.params.items()))


def normalize_phrase(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    return text.rstrip("。.;；")


def parse_rule_phrase(text: str) -> Rule:
    """Turn a 扣分标准 phrase into a Rule, or raise RulePhraseError naming what was found."""
    phrase = normalize_phrase(text)
    veto = _VETO.match(phrase)
    if veto:
        return Rule("veto", scope="section" if veto.group(1) == "本一级指标" else "inspection")
    veto = _VETO_EN.match(phrase.lower())
    if veto:
        return Rule("veto", scope="section" if veto.group(1) == "section" else "inspection")
    # 最高扣/扣完为止 may follow after a comma, or after a space (gone by now) or nothing
    head, *tail = [p for p in re.split(r"[,，;；]|(?=最高扣|最多扣|扣完为止)", phrase) if p] or [""]
    found = next(((k, m) for k, p in _PHRASES if (m := p.match(head))), None)
    cap_pattern = _CAP
    if found is None:
        head, tail = head.lower(), [part.lower() for part in tail]
        found = next(((k, m) for k, p in _PHRASES_EN if (m := p.match(head))), None)
        cap_pattern = _CAP_EN
    if found is None:
        raise RulePhraseError("standard.phrase.unknown", text=text)
    kind, match = found
    cap = None
    for part in tail:
        if part in _UNTIL_NONE_LEFT:
            continue
        cap_match = cap_pattern.match(part)
        if not cap_match:
            raise RulePhraseError("standard.phrase.unknown_part", text=text, part=part)
        cap = Decimal(cap_match.group(1))
    return Rule(kind, unit=Decimal(match.group(1)), cap=cap)
