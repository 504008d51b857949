"""HQ's Excel table: tables written inline import to the exact model; export round trips."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from audit_xls.model.standard import DEFAULT_GRADE_BANDS, Criterion, Group, Rule, Section, Standard
from audit_xls.standards.loader import StandardError
from audit_xls.standards.table import export_table, import_table, split_criteria, split_points

D = Decimal
HEADER = ["一级指标", "二级指标", "检查标准", "检查方法", "扣分标准"]


def table(
    tmp_path: Path,
    rows: list[list[object]],
    merges: tuple[str, ...] = (),
    title: str | None = "客户服务督导标准",
    header: list[str] = HEADER,
    sheet: str = "标准",
) -> Path:
    """Write a workbook: optional title on row 1, blank row 2, header on row 3, rows from 4."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    if title:
        ws.cell(1, 1, title)
    for c, label in enumerate(header, start=1):
        ws.cell(3, c, label)
    for r, values in enumerate(rows, start=4):
        for c, value in enumerate(values, start=1):
            if value not in (None, ""):
                ws.cell(r, c, value)
    for cells in merges:
        ws.merge_cells(cells)
    path = tmp_path / "table.xlsx"
    book.save(path)
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(StandardError) as caught:
        import_table(path)
    return [str(p).replace(f"{path}: ", "") for p in caught.value.problems]


PER_PERSON = Rule("per_person_point", unit=D("0.3"), cap=D(1))
PER_POINT = Rule("per_point", unit=D("0.5"))
VETO_SECTION = Rule("veto", scope="section")
VETO_ALL = Rule("veto", scope="inspection")


def test_seed_shaped_table_imports_to_exact_model(tmp_path: Path) -> None:
    path = table(
        tmp_path,
        [
            [
                "行为规范\n（10分）",
                None,
                "1.甲\n2、乙",
                "现场抽查",
                "一人一个问题点扣0.3分，最高扣1分",
            ],
            [None, None, "（3）丙", None, None],
            ["房屋交付(10分)", "交付准备(5分)", "1. 丁", "查看记录", "一个问题点扣0.5分"],
            [None, None, "2. 戊", None, "否决项：出现即本一级指标不得分"],
            [None, "交付手续办理", "1. 己", "查看现场", "每处扣1分"],
            [None, None, "2. 庚", None, "发现一处扣2分，扣完为止"],
            [None, None, "3. 辛", None, "每项扣1分"],
            [None, None, "4. 壬", None, "一项不符合扣2分，最高扣4分"],
            [None, None, "5. 丑", None, None],
            ["装修服务（14分）", "装修服务准备", "癸", "查看记录", "否决项：出现即本次检查不得分"],
            [None, None, "子\n续行", None, "一个问题点扣0.5分"],
        ],
        merges=("A4:A5", "D4:D5", "E4:E5", "A6:A12", "B6:B7", "D6:D7", "B8:B12", "D8:D12"),
    )
    std = import_table(path, id="kefu", version="2")
    per_item_capped = Rule("per_item", unit=D(2), cap=D(4))
    assert std == Standard(
        id="kefu",
        name="客户服务督导标准",
        version="2",
        sections=(
            Section("1", "行为规范", D(10), (
                Group(None, "现场抽查", PER_PERSON, (
                    Criterion("1.1.01", "甲", PER_PERSON),
                    Criterion("1.1.02", "乙", PER_PERSON),
                    Criterion("1.1.03", "丙", PER_PERSON),
                )),
            )),
            Section("2", "房屋交付", D(10), (
                Group("交付准备", "查看记录", PER_POINT, (
                    Criterion("2.1.01", "丁", PER_POINT),
                    Criterion("2.1.02", "戊", VETO_SECTION, own_rule=True),
                ), points=D(5)),
                # the most common rule in the group is the group's; the others are overrides
                Group("交付手续办理", "查看现场", per_item_capped, (
                    Criterion("2.2.01", "己", Rule("per_place", unit=D(1)), own_rule=True),
                    Criterion("2.2.02", "庚", Rule("per_place", unit=D(2)), own_rule=True),
                    Criterion("2.2.03", "辛", Rule("per_item", unit=D(1)), own_rule=True),
                    Criterion("2.2.04", "壬", per_item_capped),
                    Criterion("2.2.05", "丑", per_item_capped),
                )),
            )),
            Section("3", "装修服务", D(14), (
                Group("装修服务准备", "查看记录", VETO_ALL, (
                    Criterion("3.1.01", "癸", VETO_ALL),
                    Criterion("3.1.02", "子续行", PER_POINT, own_rule=True),
                )),
            )),
        ),
        grade_bands=DEFAULT_GRADE_BANDS,
    )  # fmt: skip


def test_code_column_and_header_anywhere(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.title = "Sheet1"
    book.create_sheet("说明").append(["本表为检查标准"])
    ws.append([])
    ws.append([])
    ws.append([None, "检查方法", "扣分标准", "编号", "一级指标", "检查标准"])
    ws.append([None, "抽查", "每处扣1分", "7.1.01", "安全(5分)", "1.甲"])
    ws.append([None, None, None, "7.1.09", None, "2.乙"])
    path = tmp_path / "coded.xlsx"
    book.save(path)
    std = import_table(path)
    assert (std.id, std.name, std.version) == ("coded", "coded", "1.0")
    (section,) = std.sections
    assert (section.code, section.name, section.points) == ("7", "安全", D(5))
    assert [(c.code, c.text) for c in section.criteria] == [("7.1.01", "甲"), ("7.1.09", "乙")]


def test_every_problem_located_by_cell(tmp_path: Path) -> None:
    path = table(
        tmp_path,
        [
            ["行为规范", None, "1.甲", "现场抽查", "酌情扣分"],
            ["房屋交付(10分)", "交付准备(12分)", "1.丁", None, "一个问题点扣0.5分，最高扣11分"],
            [None, None, "2.戊", "查看", "一个问题点扣0分"],
            ["装修(0分)", None, "1.己", "查看", "每处扣1分"],
        ],
    )
    assert errors(path) == [
        "标准!A4: 一级指标「行为规范」没有写分值：应写成如「行为规范(10分)」",
        "标准!E4: 无法识别的扣分标准「酌情扣分」：应写成如「一个问题点扣0.5分」"
        "「一人一个问题点扣0.3分」「每处扣1分，最高扣3分」「每项扣1分，扣完为止」"
        "「否决项：出现即本一级指标不得分」",
        "标准!B5: 二级指标「交付准备(12分)」分值 12 超过一级指标的 10 分：应不超过一级指标分值",
        "标准!E5: 扣分标准「一个问题点扣0.5分，最高扣11分」最高扣 11 分，超过一级指标的 10 分："
        "应不超过一级指标分值",
        "标准!E6: 扣分标准「一个问题点扣0分」每次扣 0 分：应大于 0",
        "标准!D6: 检查方法「查看」与本二级指标 标准!D5 的「现场抽查」不同："
        "同一二级指标只能有一个检查方法",
        "标准!A7: 一级指标「装修(0分)」分值为 0：应大于 0",
    ]


def test_missing_method_and_rule(tmp_path: Path) -> None:
    path = table(tmp_path, [["安全(5分)", None, "1.甲", None, None]])
    assert errors(path) == [
        "标准!D4: 检查方法为空，上方也没有：请写出本二级指标的检查方法",
        "标准!E4: 扣分标准为空，上方也没有：请写出扣分标准",
    ]


def test_header_problems(tmp_path: Path) -> None:
    path = table(tmp_path, [], header=["一级指标", "检查标准", "扣分标准"])
    assert errors(path) == [
        "标准 第 3 行: 表头缺少列 检查方法："
        "表头应含 一级指标、二级指标、检查标准、检查方法、扣分标准（可选 编号）"
    ]
    path = table(tmp_path, [], header=["指标", "内容"])
    assert errors(path) == [
        "没有找到表头：任一工作表中都没有同时含「一级指标」和「检查标准」的行；"
        "表头应含 一级指标、二级指标、检查标准、检查方法、扣分标准"
    ]
    path = table(tmp_path, [])
    assert errors(path) == ["表头下方没有任何检查标准：请在表头下逐行填写"]


def test_not_an_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 legacy")
    with pytest.raises(StandardError) as caught:
        import_table(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: 无法作为 xlsx 表格打开（不是 .xlsx 格式）："
        "请在 Excel 或 WPS 中另存为 .xlsx 后再导入"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("行为规范(10分)", ("行为规范", D(10))),
        ("行为规范\n（10分）", ("行为规范", D(10))),
        ("装修服务 （ １４ 分 ）", ("装修服务", D(14))),
        ("交付准备(2.5分)", ("交付准备", D("2.5"))),
        ("交付手续办理", ("交付手续办理", None)),
        ("Code  of\nconduct (10 points)", ("Code of conduct", D(10))),
        ("望京 SOHO 交付 (5 Points)", ("望京SOHO交付", D(5))),
    ],
)
def test_split_points(text: str, expected: tuple) -> None:
    assert split_points(text) == expected


def test_split_criteria_numbering() -> None:
    assert split_criteria("1.甲\n2、乙\n（3）丙\n(4) 丁\n3.5米以内\n5．戊") == [
        "甲", "乙", "丙", "丁3.5米以内", "戊",
    ]  # fmt: skip
    assert split_criteria("不编号的一条") == ["不编号的一条"]


def test_shipped_standard_round_trips(shipped_standard, tmp_path: Path) -> None:
    path = tmp_path / "kefu.xlsx"
    export_table(shipped_standard, path)
    back = import_table(path, id="kefu-dudao", version="1.0")
    assert back.content_hash == shipped_standard.content_hash
    assert back.name == "客户服务督导标准"
    assert [c.code for c in back.criteria] == [c.code for c in shipped_standard.criteria]
    ws = load_workbook(path).active
    assert [c.value for c in ws[2]] == [
        "编号",
        "一级指标",
        "二级指标",
        "检查标准",
        "检查方法",
        "扣分标准",
    ]
    assert {str(r) for r in ws.merged_cells.ranges} >= {
        "A1:F1", "B3:B17", "E3:E17", "F3:F17", "B18:B40", "C18:C32", "C33:C40", "B41:B44",
    }  # fmt: skip
    assert ws["B3"].value == "行为规范(10分)"
    assert ws["D3"].value.startswith("1. 符合《员工行为规范指南》")
    assert ws.freeze_panes == "A3"


def test_round_trip_with_overrides_and_group_points(tmp_path: Path) -> None:
    std = Standard(
        id="x",
        name="小标准",
        version="1",
        sections=(
            Section("1", "安全", D(10), (
                Group("消防(4分)".replace("(4分)", ""), "查看", PER_POINT, (
                    Criterion("1.1.01", "甲", PER_POINT),
                    Criterion("1.1.02", "乙", VETO_ALL, own_rule=True),
                    Criterion("1.1.03", "丙", PER_POINT),
                ), points=D(4)),
            )),
        ),
    )  # fmt: skip
    path = tmp_path / "x.xlsx"
    export_table(std, path)
    assert import_table(path, id="x", version="1") == std


def test_missing_file_and_folder_are_told_apart(tmp_path: Path) -> None:
    assert errors(tmp_path / "nope.xlsx") == ["文件不存在：请检查路径。"]
    assert errors(tmp_path) == ["这是一个文件夹，不是文件：请指定要导入的 .xlsx 表格。"]


def test_export_writes_standard_info_sheet_and_import_reads_it(
    shipped_standard, tmp_path: Path
) -> None:
    path = tmp_path / "table.xlsx"
    export_table(shipped_standard, path)
    book = load_workbook(path)
    assert book.sheetnames == ["检查标准", "标准信息"]
    info = book["标准信息"]
    assert [[c.value for c in row] for row in info.iter_rows(max_row=4)] == [
        ["项目", "内容"],
        ["标准编号", "kefu-dudao"],
        ["版本", "1.0"],
        ["评级", "优秀≥90；良好≥80；合格≥70；不合格≥0"],
    ]
    back = import_table(path)
    assert (back.id, back.version, back.name) == ("kefu-dudao", "1.0", "客户服务督导标准")
    assert back.content_hash == shipped_standard.content_hash
    flagged = import_table(path, id="other", version="9")
    assert (flagged.id, flagged.version) == ("other", "9")


def test_info_sheet_typed_by_hand(tmp_path: Path) -> None:
    path = table(tmp_path, [["安全(5分)", None, "1.甲", "查看", "一个问题点扣0.5分"]])
    book = load_workbook(path)
    info = book.create_sheet("标准信息")
    info.append(["标准编号", " anquan "])
    info.append(["版本", 2.1])  # typed as a number in Excel
    book.save(path)
    back = import_table(path)
    assert (back.id, back.version) == ("anquan", "2.1")
    del book["标准信息"]
    book.save(path)
    assert (import_table(path).id, import_table(path).version) == ("table", "1.0")


def test_own_grade_bands_survive_export_and_import(tmp_path: Path) -> None:
    path = table(tmp_path, [["安全(5分)", None, "1.甲", "查看", "一个问题点扣0.5分"]])
    strict = import_table(path, id="s", version="1")
    strict = Standard(strict.id, strict.name, strict.version, strict.sections,
                      grade_bands=(("A", D(95)), ("B", D("85.5")), ("C", D(0))))  # fmt: skip
    exported = tmp_path / "strict.xlsx"
    export_table(strict, exported)
    back = import_table(exported)
    assert back.grade_bands == (("A", D(95)), ("B", D("85.5")), ("C", D(0)))
    assert back.content_hash == strict.content_hash


def test_unreadable_grade_bands_are_a_located_error(tmp_path: Path) -> None:
    path = table(tmp_path, [["安全(5分)", None, "1.甲", "查看", "一个问题点扣0.5分"]])
    book = load_workbook(path)
    info = book.create_sheet("标准信息")
    info.append(["标准编号", "s"])
    info.append(["评级", "优秀90分以上"])
    book.save(path)
    assert errors(path) == [
        "标准信息!B2: 评级「优秀90分以上」无法识别：应写成如「优秀≥90；良好≥80；合格≥70；不合格≥0」"
    ]


def test_a_table_zip_of_an_unsupported_version_is_not_an_xlsx(tmp_path: Path) -> None:
    from returns import unsupported_zip_version

    path = table(tmp_path, [])
    path.write_bytes(unsupported_zip_version(path.read_bytes()))
    with pytest.raises(StandardError) as caught:
        import_table(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: 无法作为 xlsx 表格打开（不是 .xlsx 格式）："
        "请在 Excel 或 WPS 中另存为 .xlsx 后再导入"
    ]
