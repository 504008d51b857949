"""Nothing Chinese under --lang en but the user's own data.

The English demo (with $AUDIT_XLS_LANG=en, no --lang) and then every command with --lang en
over its outputs: stdout, stderr, --json, the CSVs and every workbook (sheet names, cells,
comments, dropdown lists, headers and footers, document properties) are read, and each run of
Chinese characters must be a piece of what a user wrote: the shipped standard's words (its name,
sections, criteria; the demo's inspection notes quote their beginning) and the sample sites'
(names, regions, city companies, file names made of them). The allow-list is those words and
nothing looser; the two known leftovers are named below.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import warnings
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from audit_xls import data
from audit_xls.cli import cli
from audit_xls.grading.sites import load_sites
from audit_xls.model.standard import DEFAULT_GRADE_BANDS
from audit_xls.standards.loader import load_standard

CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def _user_words() -> str:
    """Every text a user wrote that the English demo carries, one per line."""
    standard = load_standard(data.shipped_standard())
    words = [standard.name, standard.description or "", standard.source or ""]
    words.append(standard.assumed or "")
    for section in standard.sections:
        words += [section.name, section.assumed or ""]
        for group in section.groups:
            words += [group.name or "", group.method, group.assumed or ""]
            for criterion in group.criteria:
                words.append(criterion.assumed or "")
                # the demo's planted mistake edits one locked text (三响内 -> 五响内)
                words += [criterion.text, criterion.text.replace("三响内", "五响内")]
    for site in load_sites(data.sample_sites()):
        words += [site.code, site.name, site.region, site.city_company, site.project_type]
    # Known leftover: the default grade names (the shipped standard has no grade_bands of its
    # own) are stored in the history as the grade itself and shown as stored.
    words += [name for name, _ in DEFAULT_GRADE_BANDS]
    return "\n".join(words)


USER_WORDS = _user_words()
# A standard file keeps its 扣分标准 phrases in HQ's Chinese whatever --lang (the canonical
# form standards/loader.dump_standard writes; it reads English phrases too): the standard file
# imported from the English table is left out of the scan, by name.
HQ_FORMAT = ("s.yaml",)


def not_user_data(text: str) -> list[str]:
    """The runs of Chinese characters in `text` that are no piece of a user's words."""
    return [run for run in CJK_RUN.findall(text) if run not in USER_WORDS]


def _workbook_texts(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path)
    yield "properties", f"{book.properties.title} {book.properties.subject}"
    yield "defined names", " ".join(book.defined_names)
    for sheet in book.worksheets:
        yield f"{sheet.title} (name)", sheet.title
        for part in (sheet.oddHeader, sheet.oddFooter):
            for place in (part.left, part.center, part.right):
                yield f"{sheet.title} (header/footer)", place.text or ""
        for rule in sheet.data_validations.dataValidation:
            for text in (rule.formula1, rule.prompt, rule.error, rule.promptTitle):
                yield f"{sheet.title} (dropdown)", text or ""
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    yield f"{sheet.title}!{cell.coordinate}", cell.value
                if cell.comment is not None:
                    yield f"{sheet.title}!{cell.coordinate} (comment)", cell.comment.text


def _file_texts(path: Path):
    yield "(file name)", path.name
    if path.suffix == ".xlsx" and not path.name.startswith("~$"):
        yield from _workbook_texts(path)
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for i, row in enumerate(csv.reader(handle), 1):
                yield f"row {i}", " ".join(row)
    elif path.suffix in (".json", ".txt", ".yaml"):
        yield "(text)", path.read_text(encoding="utf-8")


def _offending(outputs: dict[str, str], folders: list[Path]) -> list[str]:
    found = []
    for where, text in outputs.items():
        found += [f"{where}: {run}" for run in not_user_data(text)]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix != ".sqlite" and path.name not in HQ_FORMAT:
                for where, text in _file_texts(path):
                    found += [
                        f"{path.relative_to(folder)} {where}: {r}" for r in not_user_data(text)
                    ]
    return sorted(set(found))


def test_the_allow_list_is_precise() -> None:
    assert not_user_data("滨江花园 (华东区域) 客户服务督导标准") == []
    assert not_user_data("Grade colours：") == ["："]
    assert not_user_data("现场复查仍未整改") == ["现场复查仍未整改"]
    assert not_user_data("整改回复.xlsx") == ["整改回复"]


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory):
    """The English demo, then every command in English over its outputs."""
    root = tmp_path_factory.mktemp("english")
    demo, more = root / "demo", root / "more"
    more.mkdir()
    runner = CliRunner()
    outputs: dict[str, str] = {}

    def run(name: str, *args: str, env: dict[str, str] | None = None, code: int = 0) -> None:
        result = runner.invoke(cli, list(args), env=env or {"AUDIT_XLS_LANG": ""})
        assert "Traceback" not in result.stdout + result.stderr, (name, result.stderr)
        assert result.exit_code == code, (name, result.exit_code, result.stdout, result.stderr)
        outputs[f"{name} stdout"] = result.stdout
        outputs[f"{name} stderr"] = result.stderr

    run("demo", "demo", "--out", str(demo), "--no-soffice", env={"AUDIT_XLS_LANG": "en"})
    history = more / "history.sqlite"
    shutil.copy(demo / "history.sqlite", history)
    last = sorted(p.name for p in (demo / "returns").iterdir())[-1]
    register = demo / "issued" / last / f"issued-{last}.csv"
    en = ("--lang", "en")
    run(
        "grade", "grade", str(demo / "returns" / last), "--issued", str(register), "--out",
        str(more / "summary.xlsx"), "--csv", str(more / "results.csv"), "--json",
        "--history", str(history), *en, code=1,
    )  # fmt: skip
    run(
        "monthly", "monthly", "--history", str(history), "--out", str(more / "monthly.xlsx"),
        "--csv", str(more / "monthly-csv"), "--json", *en,
    )  # fmt: skip
    run("history check", "history", "check", "--history", str(history), *en)
    run("history check --json", "history", "check", "--history", str(history), "--json", *en)
    run(
        "rectify notices", "rectify", "notices", "--period", "2026-12", "--history",
        str(history), "--out", str(more / "notices"), "--date", "2026-12-05", *en,
    )  # fmt: skip
    replies = sorted((demo / "replies").iterdir())[-1]
    run(
        "rectify collect", "rectify", "collect", str(replies), "--history", str(history),
        "--out", str(more / "replies.xlsx"), "--json", "--today", "2026-12-06", *en,
    )  # fmt: skip
    run(
        "build", "build", "--standard", str(data.shipped_standard()), "--sites",
        str(data.sample_sites()), "--period", "2026-12", "--out", str(more / "issued"),
        "--history", str(history), *en,
    )  # fmt: skip
    run("standard check", "standard", "check", str(data.shipped_standard()), *en)
    run("standard show", "standard", "show", str(data.shipped_standard()), *en)
    run("standard show --json", "standard", "show", str(data.shipped_standard()), "--json", *en)
    table = more / "table.xlsx"
    run(
        "standard export",
        "standard",
        "export",
        str(data.shipped_standard()),
        "--out",
        str(table),
        *en,
    )
    run("standard import", "standard", "import", str(table), "--out", str(more / "s.yaml"), *en)
    # refusals are worded in English too
    run("monthly refused", "monthly", "--history", str(history), "--from", "2026-12", "--to",
        "2026-01", "--out", str(more / "m2.xlsx"), *en, code=2)  # fmt: skip
    run("notices refused", "rectify", "notices", "--period", "2026-12", "--site", "NONE",
        "--history", str(history), "--out", str(more / "none"), *en, code=1)  # fmt: skip
    run("collect refused", "rectify", "collect", str(replies), "--history", str(history),
        "--out", str(more), *en, code=1)  # fmt: skip
    return outputs, [demo, more]


def test_nothing_chinese_in_english_but_the_users_words(english) -> None:
    outputs, folders = english
    assert json.loads(outputs["grade stdout"])  # --json stdout is the JSON alone
    offending = _offending(outputs, folders)
    assert offending == [], "\n".join(offending)


def test_the_english_demo_wrote_its_notes_in_english(english) -> None:
    outputs, folders = english
    book = openpyxl.load_workbook(next((folders[0] / "notices").rglob("Notice_*.xlsx")))
    notes = [c.value for row in book.worksheets[1].iter_rows() for c in row if c.value]
    assert any(" found, " in str(note) for note in notes), notes
    assert outputs["collect refused stderr"].endswith("/replies.xlsx.\n")


def test_build_refusals_in_english(tmp_path: Path) -> None:
    from datetime import date

    from audit_xls.grading.sites import Site
    from audit_xls.i18n import say
    from audit_xls.workbook.build import BuildError, build_all

    standard = load_standard(data.shipped_standard())
    sites = [Site("A/1", "同名", "华东"), Site("A:1", "同名", "华东")]
    with pytest.raises(BuildError) as caught:
        build_all(standard, sites, "2026-11", tmp_path / "o", issued_on=date(2026, 11, 1))
    assert say(caught.value, "en") == (
        "Sites 'A/1' and 'A:1' give the same workbook file name (2026-11_A_1_同名.xlsx): "
        "change one of the site codes."
    )
    with pytest.raises(BuildError) as caught:
        build_all(standard, sites, "2026-13", tmp_path / "o", issued_on=date(2026, 11, 1))
    assert not_user_data(say(caught.value, "en")) == []


def test_the_demos_made_up_words_choose_alike_in_both_languages() -> None:
    from audit_xls.i18n import entry

    for key in ("demo.fill.inspectors", "demo.fill.managers", "demo.fill.follow_ups"):
        assert len(entry(key, "zh")) == len(entry(key, "en")) > 1, key
        assert not_user_data(" ".join(entry(key, "en"))) == [], key


def test_an_english_table_reads_back_to_the_same_standard(tmp_path: Path) -> None:
    from audit_xls.standards.table import export_table, import_table

    standard = load_standard(data.shipped_standard())
    export_table(standard, tmp_path / "en.xlsx", "en")
    book = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert book.sheetnames == ["Criteria", "Standard info"]
    assert [c.value for c in book["Criteria"][2]] == [
        "Code", "Section", "Group", "Criterion", "Method", "Deduction rule"
    ]  # fmt: skip
    assert book["Criteria"]["B3"].value == "行为规范 (10 points)"
    assert book["Criteria"]["F3"].value == "0.3 off per person per problem point"
    back = import_table(tmp_path / "en.xlsx")
    assert (back.id, back.version, back.content_hash) == (
        standard.id, standard.version, standard.content_hash
    )  # fmt: skip
