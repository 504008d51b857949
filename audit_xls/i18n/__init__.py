"""Every word audit-xls says to a person, in Chinese and English, from one catalogue per language.

    t("diagnostic.answer.unanswered", "en", count=2, cells=[...])

Keys are dotted (`summary.sheets.overview`, `diagnostic.file.empty`, `cli.grade.account`); the
catalogues are `zh.py` and `en.py` beside this file, and the workbook labels (`workbook.*`) come
from the workbook templates (templates/zh.yaml, templates/en.yaml), so one lookup serves labels
and messages alike. Parameters are filled with str.format names; a list parameter is joined with
the language's separator, a `Ref` parameter is itself looked up, and an entry written as
`Plural(one, other)` picks its form from the `count` parameter.

Machine keys (JSON, machine CSV headers) are not here: they are English and stable, listed in
docs/outputs.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from audit_xls.i18n.forms import Clauses, Lines, Plural, Ref

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "LANG_ENV",
    "Clauses",
    "LanguageError",
    "Lines",
    "Plural",
    "Ref",
    "Said",
    "check_lang",
    "default_lang",
    "entry",
    "join",
    "keys",
    "namespace",
    "say",
    "t",
]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_ENV = "AUDIT_XLS_LANG"

# How a list reads inside a sentence: items, and clauses (Clauses).
_SEPARATORS = {"zh": "、", "en": ", "}
_CLAUSE_SEPARATORS = {"zh": "；", "en": "; "}


class LanguageError(ValueError):
    """Raised when a language is not one of LANGS."""


class Said:
    """A mixin for errors whose words come from the catalogue: `str()` reads in Chinese (the
    default), `text(lang)` in any language. Use as `class XError(Said, ValueError)`."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(t(key, DEFAULT_LANG, **params))
        self.key = key
        self.params = params

    def text(self, lang: str = DEFAULT_LANG) -> str:
        return t(self.key, lang, **self.params)


def say(error: BaseException, lang: str = DEFAULT_LANG) -> str:
    """An error's words in `lang` when it has them in the catalogue, else as it was raised."""
    text = getattr(error, "text", None)
    return text(lang) if callable(text) else str(error)


def check_lang(lang: str) -> str:
    """`lang` when it is a known language, else LanguageError (worded in both languages)."""
    if lang not in LANGS:
        raise LanguageError(
            t("i18n.unknown_lang", DEFAULT_LANG, lang=lang, langs=list(LANGS))
            + " / "
            + t("i18n.unknown_lang", "en", lang=lang, langs=list(LANGS))
        )
    return lang


def default_lang() -> str:
    """$AUDIT_XLS_LANG when it names a known language, else Chinese."""
    lang = os.environ.get(LANG_ENV, "").strip().lower()
    return lang if lang in LANGS else DEFAULT_LANG


@cache
def _catalogue(lang: str) -> dict[str, Any]:
    if lang == "en":
        from audit_xls.i18n.en import MESSAGES
    else:
        from audit_xls.i18n.zh import MESSAGES
    merged = dict(MESSAGES)
    merged.update(_workbook_labels(lang))
    return merged


def _workbook_labels(lang: str) -> dict[str, Any]:
    """The template of the same name as `lang`, flattened under `workbook.`."""
    from audit_xls.workbook.template import load_template

    out: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(f"{prefix}.{key}", value)
        else:
            out[prefix] = node

    walk("workbook", load_template(lang).data)
    return out


def keys(lang: str = DEFAULT_LANG) -> list[str]:
    """Every key of the catalogue of `lang`."""
    return list(_catalogue(check_lang(lang)))


def entry(key: str, lang: str = DEFAULT_LANG) -> Any:
    """The raw catalogue entry (a str, a list of column names, a Plural)."""
    catalogue = _catalogue(lang if lang in LANGS else DEFAULT_LANG)
    try:
        return catalogue[key]
    except KeyError:
        raise KeyError(f"no message {key!r} in the {lang} catalogue") from None


def join(items: Iterable[object], lang: str = DEFAULT_LANG) -> str:
    """Items as a list inside a sentence: 甲、乙 in Chinese, a, b in English."""
    return _SEPARATORS.get(lang, _SEPARATORS[DEFAULT_LANG]).join(
        render_value(item, lang) for item in items
    )


def render_value(value: object, lang: str) -> str:
    """A parameter as text in `lang`: lists joined, references looked up."""
    if isinstance(value, Ref):
        return t(value.key, lang, **dict(value.params))
    if isinstance(value, Lines):
        return "\n".join(render_value(item, lang) for item in value)
    if isinstance(value, Clauses):
        separator = _CLAUSE_SEPARATORS.get(lang, _CLAUSE_SEPARATORS[DEFAULT_LANG])
        return separator.join(render_value(item, lang) for item in value)
    if isinstance(value, (list, tuple)):
        return join(value, lang)
    return str(value)


def t(key: str, lang: str = DEFAULT_LANG, /, **params: object) -> str:
    """The message `key` in `lang`, filled with `params`."""
    text = entry(key, lang)
    if isinstance(text, Plural):
        count = params.get("count")
        text = text.one if count == 1 else text.other
    if not isinstance(text, str):
        raise TypeError(f"message {key!r} is a {type(text).__name__}, not text")
    if not params:
        return text
    return text.format(**{name: render_value(value, lang) for name, value in params.items()})


def namespace(prefix: str, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """The entries under `prefix.` as a nested dict (summary labels read as labels["sheets"])."""
    out: dict[str, Any] = {}
    start = prefix + "."
    for key, value in _catalogue(lang if lang in LANGS else DEFAULT_LANG).items():
        if not key.startswith(start):
            continue
        node = out
        *parents, last = key[len(start) :].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out
