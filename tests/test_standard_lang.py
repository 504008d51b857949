"""The standards side in English: `standard check/show/import --lang en` say located problems
in English (Chinese output unchanged, asserted in test_cli_standard.py and test_table.py)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from audit_xls.cli import cli

FAULTY = """\
id: tiny
name: 小标准
version: "1"
sections:
  - code: "1"
    name: 行为规范
    points: 0
    groups:
      - method: 现场抽查
        rule: 一个问题扣0.5分
        criteria:
          - code: "1.1.01"
            text: 甲
          - code: "1.1.01"
            txt: 乙
      - method: 查看记录
        rule: {kind: veto, scope: site}
        criteria:
          - code: "1.2.01"
            text: 丙
grade_bands:
  - {name: 好, min: 101}
rectification:
  days: 7.5
  overrides: {"9": 3}
"""
HINT = (
    "write it like '0.5 off per problem point', '0.3 off per person per problem point, at most "
    "1 off', '1 off per place, until none is left' or 'Veto: the section scores nothing', or as "
    "a mapping {kind, unit, cap, scope}"
)


def run(*args: str):
    return CliRunner().invoke(cli, ["standard", *args])


def test_check_in_english_locates_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FAULTY, encoding="utf-8")
    result = run("check", "--lang", "en", str(bad))
    assert result.exit_code == 1
    criterion = "sections[0].groups[0].criteria"
    assert result.output.splitlines() == [
        f"{bad}:7: sections[0].points: the section's point value (points) is 0: it should be "
        "more than 0",
        f"{bad}:10: sections[0].groups[0].rule: the deduction rule '一个问题扣0.5分' is not "
        f"understood: {HINT}",
        f"{bad}:14: {criterion}[1].text: 'text' is missing: a criterion must have text",
        f"{bad}:14: {criterion}[1].code: the criterion code '1.1.01' is used twice (already on "
        f"line 12 at {criterion}[0].code): codes must be unique in the whole standard",
        f"{bad}:15: {criterion}[1].txt: unknown key 'txt': the keys of a criterion are code, "
        "text, rule, assumed (did you mean 'text'?)",
        f"{bad}:17: sections[0].groups[1].rule.scope: the veto scope is 'site': a veto's scope "
        "should be section (the section scores nothing) or inspection (the whole inspection "
        "scores nothing)",
        f"{bad}:22: grade_bands[0].min: the grade minimum is 101: it should lie between 0 and "
        "100 (a percentage)",
        f"{bad}:24: rectification.days: the days to fix are 7.5: they should be a whole number "
        "1-366",
        f"{bad}:25: rectification.overrides.9: the code '9' is not a section or criterion code "
        "of this standard",
        "1 of 1 files have problems: fix them where shown above and check again",
    ]


def test_check_in_chinese_is_as_before(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FAULTY, encoding="utf-8")
    lines = run("check", str(bad)).output.splitlines()
    assert lines[1] == (
        f"{bad}:10: sections[0].groups[0].rule: 无法识别的扣分标准「一个问题扣0.5分」：应为如"
        "「一个问题点扣0.5分」「一人一个问题点扣0.3分，最高扣1分」「每处扣1分，扣完为止」"
        "「否决项：出现即本一级指标不得分」的写法，或映射 {kind, unit, cap, scope}"
    )
    assert lines[-1] == "1 个文件有问题（共 1 个）：请按上面的位置修改后再检查"


def test_show_in_english_says_the_problem_in_english(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: y\nversion: 1\nsections: []\n", encoding="utf-8")
    result = run("show", "--lang", "en", str(bad))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {bad}:4: sections: sections is empty: at least one item is needed\n"
    )
