"""Every sheet a person prints, printed by LibreOffice to PDF and read back (issue 13).

For the issued workbook, the grade summary and the monthly workbook (with the supervision
cycle's sheets): A4 landscape pages, every column of a table on the page (each page showing a
table's first header shows all its headers; 整改台账's 27 columns on two pages read across, both
repeating the columns that say which problem a row is),
long texts whole (their last characters are printed: a row too short cuts them), and a readable
size: the median height of the words on a page is at least MIN_SCALE of their height at 100 %.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from datetime import date
from pathlib import Path

import pytest
from returns import fill

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.register import read_issued, register_path
from audit_xls.grading.sites import Site
from audit_xls.history.monthly import monthly_report
from audit_xls.history.monthly_workbook import write_monthly
from audit_xls.history.store import record_batch
from audit_xls.outputs.summary import write_summary
from audit_xls.rectify.notices import write_notices
from audit_xls.soffice import convert
from audit_xls.workbook.build import build_all

pytestmark = pytest.mark.soffice

PERIOD = "2026-11"
# 10 pt text printed at 68 % is 6.8 pt: the smallest we call readable on A4 (the sheets print
# at 70-100 %). A 10 pt word's box is 13.0 pt tall in pdftotext's -bbox at 100 %.
MIN_SCALE = 0.68
FULL_HEIGHT = 13.0
NOTICE_DAY = date(2026, 11, 14)
A4_LANDSCAPE = (841.89, 595.28)  # points; LibreOffice writes 842 x 595

LONG_NOTE = (
    "前台接待员未佩戴工牌，且在客户来访时未起身问好；经现场询问，该员工不清楚服务礼仪的具体要求，"
    "交接班记录中也没有相关培训记录，要求本周内组织全员培训并补充记录——结尾"
)
SITES = [
    Site("HD001", "滨江花园", "华东区域"),
    Site("HD002", "翠湖天地国际公寓二期（东区）", "华东区域"),
    Site("HN001", "珠江帝景", "华南区域"),
    Site("XN001", "天府国际金融中心", "西南区域"),
]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pages(pdf: Path, mode: str = "-layout") -> list[str]:
    """The text of each page: "-layout" keeps a row on a line (headers), "-raw" keeps each
    cell's lines together (texts wrapped in a cell)."""
    text = subprocess.run(
        ["pdftotext", mode, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def page_boxes(pdf: Path) -> list[tuple[tuple[float, float], list[float]]]:
    """Each page's size and the heights of its word boxes."""
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    out = []
    for page in xml.split("<page ")[1:]:
        size = re.match(r'width="([\d.]+)" height="([\d.]+)"', page)
        assert size is not None
        heights = [
            float(b) - float(a)
            for a, b in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', page)
        ]
        out.append(((float(size.group(1)), float(size.group(2))), heights))
    return out


@pytest.fixture(scope="module")
def printed(tmp_path_factory, shipped_standard) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("prints")
    issued_dir = base / "issued"
    entries = build_all(shipped_standard, SITES, PERIOD, issued_dir, issued_on=date(2026, 11, 1))
    returns = base / "returns"
    returns.mkdir()
    codes = [c.code for c in shipped_standard.criteria]
    for i, entry in enumerate(entries):
        issued = (issued_dir / entry.file).read_bytes()
        answers = {codes[0]: ("不符合", 2, LONG_NOTE), codes[20]: ("不符合", 1, "门岗记录缺失")}
        if i == 3:
            answers[codes[5]] = ("不符合", "两个")  # sent back
        if i == 2:
            answers[codes[7]] = ("不符合", None)  # graded with a warning
        data = fill(issued, shipped_standard, answers, default=("符合", None))
        (returns / entry.file).write_bytes(data)
    issued_entries = read_issued(register_path(issued_dir, PERIOD))
    batch = grade_returns(returns, [shipped_standard], issued_entries)
    summary, monthly = base / "summary.xlsx", base / "monthly.xlsx"
    write_summary(batch, summary)
    history = base / "history.sqlite"
    record_batch(history, batch)
    write_monthly(monthly_report(history), monthly)
    workbook = base / "workbook.xlsx"
    workbook.write_bytes((issued_dir / entries[1].file).read_bytes())
    written = write_notices(history, PERIOD, base / "notices", [shipped_standard], NOTICE_DAY)
    notice = base / "notice.xlsx"  # HD002's: the long note and the long site name
    notice.write_bytes((base / "notices" / written.notices[1].file).read_bytes())
    pdfs = convert([workbook, summary, monthly, notice], "pdf", base / "pdf")
    return dict(zip(("workbook", "summary", "monthly", "notice"), pdfs, strict=True))


def assert_readable_a4(pdf: Path) -> None:
    for number, (size, heights) in enumerate(page_boxes(pdf), 1):
        assert (round(size[0]), round(size[1])) == (842, 595), (pdf.name, number, size)
        if len(heights) >= 5:  # a page of text, not a chart or a blank spill
            scale = statistics.median(heights) / FULL_HEIGHT
            assert scale >= MIN_SCALE, f"{pdf.name} page {number} prints at {scale:.0%}"


def page_texts(pdf: Path) -> list[str]:
    """Each page's text without spaces, as laid out and as read cell by cell (a header wrapped
    in a narrow column is whole only in the second), both together."""
    return [squeeze(a + b) for a, b in zip(pages(pdf), pages(pdf, "-raw"), strict=True)]


def assert_columns_on_page(pdf: Path, tables: dict[str, list[str]]) -> None:
    texts = page_texts(pdf)
    for title, headers in tables.items():
        shown = [i for i, text in enumerate(texts) if squeeze(headers[0]) in text]
        assert shown, f"{title}: no page shows {headers[0]}"
        for i in shown:
            missing = [h for h in headers if squeeze(h) not in texts[i]]
            assert not missing, f"{title}, page {i + 1}: columns {missing} are off the page"


def assert_columns_across(
    pdf: Path, markers: tuple[str, str], titles: list[str], parts: tuple[list[str], list[str]]
) -> None:
    """A table printed two pages wide, read across: each page of its first columns (known by
    markers[0]) is followed by the page of the rest of the same rows (markers[1]), and both
    repeat the title columns."""
    texts = page_texts(pdf)
    left = [i for i, text in enumerate(texts) if squeeze(markers[0]) in text]
    right = [i for i, text in enumerate(texts) if squeeze(markers[1]) in text]
    assert left and right == [i + 1 for i in left], (left, right)
    for pages_of, headers in zip((left, right), parts, strict=True):
        for i in pages_of:
            missing = [h for h in titles + headers if squeeze(h) not in texts[i]]
            assert not missing, f"page {i + 1}: columns {missing} are off the page"


def test_issued_workbook_prints_whole(printed, shipped_standard):
    pdf = printed["workbook"]
    assert_readable_a4(pdf)
    assert_columns_on_page(
        pdf,
        {
            "检查表": ["编号", "一级指标", "二级指标", "检查标准", "检查方法", "扣分标准",
                       "检查结果", "问题点数", "扣分", "问题描述", "照片"],
            "得分汇总": ["是否适用", "一级指标", "分值", "扣分", "得分", "应得分"],
        },
    )  # fmt: skip
    text = squeeze("".join(pages(pdf, "-raw")))
    for criterion in shipped_standard.criteria:  # every criterion's text to its last characters
        assert squeeze(criterion.text).rstrip("。.；;")[-5:] in text, criterion.code


def test_summary_prints_whole(printed):
    pdf = printed["summary"]
    assert_readable_a4(pdf)
    assert_columns_on_page(
        pdf,
        {
            "项目排名": ["否决", "排名", "检查月份", "区域", "项目编码", "项目名称", "得分", "应得分",
                         "得分率(%)", "评级", "否决", "1 行为规范", "2 房屋交付", "3 装修服务"],
            "问题清单": ["问题描述", "检查月份", "区域", "项目编码", "项目名称", "编号", "一级指标",
                         "检查标准", "扣分标准", "问题点数", "扣分", "问题描述", "照片数"],
            "退回清单": ["级别", "文件", "项目编码", "项目名称", "级别", "工作表", "单元格", "代码", "说明"],
            "警告清单": ["核对要点", "状态", "工作表", "单元格", "代码", "说明", "核对要点"],
            "未交清单": ["工作簿编号", "检查月份", "区域", "项目编码", "项目名称", "工作簿编号"],
        },
    )  # fmt: skip
    text = squeeze("".join(pages(pdf, "-raw")))
    assert LONG_NOTE[-8:] in text and LONG_NOTE[:8] in text  # the note whole, not cut
    assert "翠湖天地国际公寓二期（东区）" in text
    assert "评级颜色：■优秀≥90■良好80-89.99■合格70-79.99■不合格<70" in text


def test_monthly_prints_whole(printed):
    pdf = printed["monthly"]
    assert_readable_a4(pdf)
    assert_columns_on_page(
        pdf,
        {
            "项目月度得分": ["升降", "项目编码", "项目名称", "区域", PERIOD, "较上月", "升降", "趋势"],
            "明细": ["督导人员", "月份", "项目编码", "项目名称", "区域", "标准", "标准版本", "得分", "应得分",
                     "得分率(%)", "评级", "督导人员", "检查日期", "评分时间"],
        },
    )  # fmt: skip
    # the supervision cycle's sheets (the history has the ledger): 整改台账's 27 columns print
    # two pages wide, read across, each page repeating which problem the row is
    assert_columns_on_page(
        pdf,
        {
            "反复问题": ["此前报已整改", "项目编码", "项目名称", "区域", "标准", "指标编码", "一级指标",
                         "检查标准", "连续月数", "月份", "各月问题点数", "最近问题描述"],
            "回收情况": ["退回未评", "月份", "下发", "回收", "已评分", "未回收"],
            "整改完成率": ["应整改", "发现月份", "区域", "项目编码", "项目名称", "已整改", "完成率(%)"],
            "逾期未整改": ["逾期未整改（截至", "项目编码", "项目名称", "区域", "发现月份", "编号",
                           "检查标准", "问题描述", "整改期限", "逾期天数", "状态", "通知日期",
                           "回复日期", "复查未整改次数"],
        },
    )  # fmt: skip
    assert_columns_across(
        pdf,
        ("期限为假定", "整改措施"),
        ["项目编码", "项目名称", "区域", "发现月份", "编号"],
        (
            ["检查标准", "问题描述", "问题点数", "扣分", "检查日期", "整改期限", "期限为假定",
             "通知日期", "回复日期"],
            ["回复状态", "整改措施", "责任人", "完成日期", "逾期整改", "复查日期", "复查未整改次数",
             "状态", "关闭日期", "整改天数", "逾期天数", "问题照片", "整改照片"],
        ),
    )  # fmt: skip
    text = squeeze("".join(pages(pdf, "-raw")))
    assert "翠湖天地国际公寓二期（东区）" in text  # wrapped, whole
    assert text.count(LONG_NOTE[-8:]) == 2 * 3  # the note whole in 整改台账 and 逾期未整改


def test_notice_prints_whole(printed):
    """The 整改通知单 a site prints, fills and signs: every column on the page (the photos too),
    its texts whole, readable."""
    pdf = printed["notice"]
    assert_readable_a4(pdf)
    assert_columns_on_page(
        pdf,
        {
            "通知信息": ["填写说明", "项目编码", "项目名称", "检查月份", "回复人", "回复说明", "通知单编号", "填写说明"],
            "整改事项": ["责任人", "编号", "检查标准", "问题描述", "扣分", "整改期限", "整改措施", "整改状态",
                         "完成日期", "责任人", "说明", "问题照片", "整改照片"],
        },
    )  # fmt: skip
    text = squeeze("".join(pages(pdf, "-raw")))
    assert LONG_NOTE[-8:] in text and LONG_NOTE[:8] in text  # the note whole, not cut
    assert "翠湖天地国际公寓二期（东区）" in text
