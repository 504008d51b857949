"""The language layer: every key in both catalogues, English free of Chinese punctuation,
plural forms right, lists joined the way each language writes them."""

from __future__ import annotations

import re
import string

import pytest

from audit_xls import i18n
from audit_xls.i18n import Clauses, Plural, Ref, t
from audit_xls.model.diagnostics import SEVERITY, make

CHINESE_PUNCTUATION = re.compile("[、，。：；「」]")
CJK = re.compile(r"[\u4e00-\u9fff]")


def texts(entry: object) -> list[str]:
    if isinstance(entry, Plural):
        return [entry.one, entry.other]
    if isinstance(entry, (list, tuple)):
        return [x for item in entry for x in texts(item)]
    return [str(entry)]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_the_same_keys() -> None:
    zh, en = set(i18n.keys("zh")), set(i18n.keys("en"))
    assert sorted(zh - en) == []
    assert sorted(en - zh) == []


def test_every_diagnostic_code_has_words_in_both_languages() -> None:
    for code in SEVERITY:
        for lang in i18n.LANGS:
            assert f"diagnostic.{code}" in i18n.keys(lang)


@pytest.mark.parametrize("key", i18n.keys("en"))
def test_english_has_no_chinese_punctuation_or_characters(key: str) -> None:
    if key.startswith("workbook.footer"):
        return
    for text in texts(i18n.entry(key, "en")):
        assert not CHINESE_PUNCTUATION.search(text), (key, text)
        assert not CJK.search(text), (key, text)


@pytest.mark.parametrize("key", i18n.keys("zh"))
def test_both_languages_fill_the_same_parameters(key: str) -> None:
    zh = set().union(*(fields(x) for x in texts(i18n.entry(key, "zh"))))
    en = set().union(*(fields(x) for x in texts(i18n.entry(key, "en"))))
    assert zh == en, key


def test_plural_forms() -> None:
    assert t("count.cells", "en", count=1) == "in 1 cell"
    assert t("count.cells", "en", count=3) == "in 3 cells"
    assert t("count.files", "en", count=1) == "1 file"
    assert t("count.files", "en", count=0) == "0 files"
    one = make("locked.changed", "en", count=1, examples=Clauses(["B3"]))
    assert "edited in 1 cell: B3:" in one.message
    assert "共 1 处：B3：" in one.render("zh")


def test_lists_and_clauses_are_joined_per_language() -> None:
    assert i18n.join(["甲", "乙"], "zh") == "甲、乙"
    assert i18n.join(["a", "b"], "en") == "a, b"
    pair = Clauses([Ref.to("format.code_at", code="1.1", where="G3"), "x"])
    assert i18n.render_value(pair, "zh") == "1.1（G3）；x"
    assert i18n.render_value(pair, "en") == "1.1 (G3); x"


def test_a_diagnostic_renders_in_either_language_from_its_code() -> None:
    d = make("duplicate.kept", "zh", workbook_id="W1", older=["a.xlsx", "b.xlsx"])
    assert d.message == d.render("zh")
    assert "a.xlsx、b.xlsx" in d.render("zh")
    assert "a.xlsx, b.xlsx" in d.render("en")


def test_unknown_language() -> None:
    with pytest.raises(i18n.LanguageError, match="未知语言「fr」"):
        i18n.check_lang("fr")


def test_default_language_follows_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    assert i18n.default_lang() == "zh"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert i18n.default_lang() == "en"


def _commands(group, prefix=()):
    import click

    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_command_takes_lang_with_the_environment_as_default(monkeypatch) -> None:
    from audit_xls.cli import cli

    for path, command in _commands(cli):
        options = {opt for p in command.params for opt in getattr(p, "opts", [])}
        assert "--lang" in options, " ".join(path)
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    import click

    grade = cli.commands["grade"]
    lang = next(p for p in grade.params if p.name == "lang")
    assert lang.get_default(click.Context(grade), call=True) == "en"


def test_english_usage_errors_speak_english(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from audit_xls.cli import cli

    monkeypatch.setenv(i18n.LANG_ENV, "en")
    returns = tmp_path / "returns"
    returns.mkdir()
    result = CliRunner().invoke(cli, ["grade", str(returns), "--out", str(tmp_path / "s.csv")])
    assert result.exit_code == 2
    assert "the summary is an Excel workbook, name it *.xlsx" in result.output
    assert not CJK.search(result.output)


def test_the_history_keeps_codes_and_parameters_so_a_record_reads_in_either_language(
    tmp_path,
) -> None:
    import sqlite3
    from datetime import datetime

    from audit_xls.history.store import record_batch, stored_diagnostic
    from audit_xls.model.diagnostics import Diagnostic
    from audit_xls.model.results import SENT_BACK, BatchResult, WorkbookResult

    made = make(
        "locked.changed",
        "zh",
        sheet="检查表",
        cell="B3",
        count=2,
        examples=Clauses([Ref.to("format.expected_found", where="B3", expected="a", found="b")]),
    )
    old = Diagnostic("error", "manifest.tampered", "清单被修改")  # fixed words, as before
    result = WorkbookResult("a.xlsx", "h", SENT_BACK, workbook_id="W", period="2026-01")
    result.diagnostics = [made, old]
    batch = BatchResult([result], [], [], None, datetime(2026, 2, 1))
    path = tmp_path / "h.sqlite"
    record_batch(path, batch)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    stored = [stored_diagnostic(dict(r)) for r in conn.execute("SELECT * FROM diagnostics")]
    conn.close()
    assert [d.render("en") for d in stored] == [made.render("en"), "清单被修改"]
    assert (
        stored[0]
        .render("en")
        .startswith("Locked content of the checklist was edited in 2 cells: B3 should read 'a'")
    )
    assert stored[0].render("zh") == made.render("zh")
