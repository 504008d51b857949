"""audit-xls standard check/show/import/export: the exact output a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit_xls.cli import cli
from audit_xls.standards.loader import load_standard

SHIPPED_STANDARD = Path(__file__).resolve().parent.parent / "standards" / "kefu-dudao.yaml"

SHIPPED_HASH = load_standard(SHIPPED_STANDARD).content_hash
SUMMARY = f"kefu-dudao v1.0 · 3 个一级指标 · 42 条检查标准 · 34 分 · 哈希 {SHIPPED_HASH[:12]}"


def run(*args: str):
    return CliRunner().invoke(cli, ["standard", *args])


def test_check_valid(tmp_path: Path) -> None:
    result = run("check", str(SHIPPED_STANDARD))
    assert result.exit_code == 0
    assert result.output == f"{SHIPPED_STANDARD}: {SUMMARY}\n"


def test_check_invalid_lists_every_located_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SHIPPED_STANDARD.read_text(encoding="utf-8")
        .replace("points: 10", "points: 0", 1)
        .replace('code: "1.1.02"', 'code: "1.1.01"'),
        encoding="utf-8",
    )
    result = run("check", str(SHIPPED_STANDARD), str(bad))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{SHIPPED_STANDARD}: {SUMMARY}",
        f"{bad}:11: sections[0].points: 一级指标分值（points）为 0：应大于 0",
        f"{bad}:18: sections[0].groups[0].criteria[1].code: 检查标准编号「1.1.01」重复"
        "（第 16 行 sections[0].groups[0].criteria[0].code 已用）：编号在整个标准中必须唯一",
        "1 个文件有问题（共 2 个）：请按上面的位置修改后再检查",
    ]


def test_check_binary_file_no_traceback(tmp_path: Path) -> None:
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    result = run("check", str(binary))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "不是 UTF-8 文本文件" in result.output


def test_check_usage_error() -> None:
    assert run("check").exit_code == 2


def test_show_tree() -> None:
    result = run("show", str(SHIPPED_STANDARD))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[:5] == [
        "客户服务督导标准 (kefu-dudao v1.0)",
        f"哈希 {SHIPPED_HASH}",
        "3 个一级指标 · 4 个二级指标 · 42 条检查标准 · 34 分 · "
        "等级 优秀≥90 良好≥80 合格≥70 不合格≥0",
        "1 行为规范 10分 · 15 条",
        "  （无二级指标） · 15 条 · 现场抽查各类人员 · 一人一个问题点扣0.3分",
    ]
    assert lines[5:8] == [
        "2 房屋交付 10分 · 23 条",
        "  交付准备 · 15 条 · 查看相关文件及记录 · 一个问题点扣0.5分",
        "  交付手续办理 · 8 条 · 查看现场或相关存档资料。 · 一个问题点扣0.5分",
    ]
    assert lines[8] == "3 装修服务 14分 · 4 条"
    assert lines[9].startswith(
        "  装修服务准备 · 4 条 · 查看相关文件及记录 · 一个问题点扣0.5分  [假定] 源片段在本组"
    )
    assert len(lines) == 10


def test_show_json() -> None:
    result = run("show", str(SHIPPED_STANDARD), "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["id"], data["hash"], data["points"], data["criteria"]) == (
        "kefu-dudao", SHIPPED_HASH, 34, 42,
    )  # fmt: skip
    assert type(data["points"]) is int and type(data["hash"]) is str
    assert data["grade_bands"] == [
        {"name": "优秀", "min": 90}, {"name": "良好", "min": 80},
        {"name": "合格", "min": 70}, {"name": "不合格", "min": 0},
    ]  # fmt: skip
    assert [(s["code"], s["points"], s["criteria"]) for s in data["sections"]] == [
        ("1", 10, 15), ("2", 10, 23), ("3", 14, 4),
    ]  # fmt: skip
    group = data["sections"][0]["groups"][0]
    assert group["rule"] == {
        "kind": "per_person_point", "unit": 0.3, "cap": None, "scope": None,
        "phrase": "一人一个问题点扣0.3分",
    }  # fmt: skip
    # decimals printed as written, never as binary floats (0.30000000000000004)
    assert '"unit": 0.3,' in result.output and '"points": 34,' in result.output
    assert data["sections"][2]["groups"][0]["assumed"].startswith("源片段在本组")


def test_show_json_caps_and_group_points_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        'id: s\nname: 小\nversion: "1"\nsections:\n  - code: "1"\n    name: 安全\n'
        "    points: 10.5\n    groups:\n      - name: 消防\n        points: 2.5\n"
        "        method: 查看\n        rule: 每处扣0.25分，最高扣2分\n        criteria:\n"
        '          - code: "1.1.01"\n            text: 甲\n',
        encoding="utf-8",
    )
    result = run("show", str(path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    section = data["sections"][0]
    group = section["groups"][0]
    assert (data["points"], section["points"], group["points"]) == (10.5, 10.5, 2.5)
    assert group["rule"] == {
        "kind": "per_place", "unit": 0.25, "cap": 2, "scope": None,
        "phrase": "每处扣0.25分，最高扣2分",
    }  # fmt: skip
    assert group["criteria"][0]["rule"]["cap"] == 2
    assert '"cap": 2,' in result.output and '"unit": 0.25,' in result.output


def test_show_invalid_file_is_error_not_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    result = run("show", str(bad))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bad}:2: YAML 语法错误：")


def test_export_then_import_same_hash(tmp_path: Path) -> None:
    table = tmp_path / "kefu.xlsx"
    result = run("export", str(SHIPPED_STANDARD), "--out", str(table))
    assert result.exit_code == 0
    assert result.output == f"已导出 {SHIPPED_STANDARD} -> {table}: {SUMMARY}\n"
    out = tmp_path / "kefu.yaml"
    result = run("import", str(table), "--out", str(out), "--id", "kefu-dudao", "--version", "1.0")
    assert result.exit_code == 0
    assert result.output == f"已导入 {table} -> {out}: {SUMMARY}\n"
    assert load_standard(out).content_hash == SHIPPED_HASH
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kefu.xlsx", "kefu.yaml"]


def test_import_bad_table_located(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "S"
    book.active.append(["一级指标", "二级指标", "检查标准", "检查方法", "扣分标准"])
    book.active.append(["安全(5分)", None, "1.甲", "查看", "看情况扣"])
    table = tmp_path / "t.xlsx"
    book.save(table)
    out = tmp_path / "t.yaml"
    result = run("import", str(table), "--out", str(out))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {table}: S!E2: 无法识别的扣分标准「看情况扣」：")
    assert not out.exists()


def test_commands_have_help() -> None:
    for command in ("check", "show", "import", "export"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def _no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize("command", ["export", "import"])
def test_unwritable_out_is_a_located_error(command: str, tmp_path: Path) -> None:
    source = SHIPPED_STANDARD
    if command == "import":
        source = tmp_path / "kefu.xlsx"
        assert run("export", str(SHIPPED_STANDARD), "--out", str(source)).exit_code == 0
    name = "t.xlsx" if command == "export" else "t.yaml"
    example = tmp_path / f"kefu-dudao{name[1:]}"
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    cases = [
        (
            tmp_path / "nodir" / name,
            f"文件夹「{tmp_path / 'nodir'}」不存在：请先建好这个文件夹，或换一个 --out 路径。",
        ),
        (
            tmp_path / "afile" / name,
            f"「{tmp_path / 'afile'}」是文件，不是文件夹：请换一个 --out 路径。",
        ),
        (tmp_path, f"是文件夹，不是文件：请在 --out 写上文件名，例如 {example}。"),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for out, message in cases:
        extra = ("--id", "kefu-dudao") if command == "import" else ()
        result = run(command, str(source), "--out", str(out), *extra)
        _no_traceback(result)
        assert result.exit_code == 1, out
        assert result.output == f"Error: {out}：{message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_import_missing_table_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nonexist.xlsx"
    result = run("import", str(missing), "--out", str(tmp_path / "x.yaml"))
    assert result.exit_code == 1
    assert result.output == f"Error: {missing}: 文件不存在：请检查路径。\n"


def test_export_import_round_trip_keeps_id_and_version(tmp_path: Path) -> None:
    table = tmp_path / "table.xlsx"
    assert run("export", str(SHIPPED_STANDARD), "--out", str(table)).exit_code == 0
    out = tmp_path / "back.yaml"
    result = run("import", str(table), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"已导入 {table} -> {out}: {SUMMARY}\n"
    back = load_standard(out)
    assert (back.id, back.version, back.content_hash) == ("kefu-dudao", "1.0", SHIPPED_HASH)

    # the flags still override what the table says
    out2 = tmp_path / "v2.yaml"
    result = run("import", str(table), "--out", str(out2), "--id", "kefu-2", "--version", "2.0")
    assert result.exit_code == 0, result.output
    assert (load_standard(out2).id, load_standard(out2).version) == ("kefu-2", "2.0")
