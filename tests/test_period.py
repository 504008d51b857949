"""period.py: the one YYYY-MM parser build, validate, monthly and demo share."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from audit_xls.cli import cli
from audit_xls.history.monthly import check_month
from audit_xls.model.period import Period, PeriodError, is_period, month_range, parse_period


def test_parse_gives_the_month_and_its_days() -> None:
    month = parse_period("2028-02")
    assert month == Period(2028, 2)
    assert str(month) == "2028-02"
    assert (month.first_day, month.last_day) == (date(2028, 2, 1), date(2028, 2, 29))
    assert parse_period("2026-11").last_day == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-11 ", "检查月份「2026-11 」前后有空白：请去掉空格，写成 2026-11。"),
        ("\t2026-11", "检查月份「\\t2026-11」前后有空白：请去掉空格，写成 2026-11。"),
        ("2026-11\n", "检查月份「2026-11\\n」前后有空白：请去掉空格，写成 2026-11。"),
        ("2026-13", "检查月份「2026-13」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("1899-12", "检查月份「1899-12」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        (" 1899-12", "检查月份「 1899-12」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("２０２６-１１", "检查月份「２０２６-１１」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("", "检查月份「」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
    ],
)
def test_parse_refuses_with_the_message_build_always_gave(text: str, message: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    assert is_period(text) is False


def test_is_period_uses_whole_string_matching() -> None:
    assert is_period("2026-03") is True
    # `^...$` with re.match accepted this trailing newline (monthly did, build did not).
    assert is_period("2026-03\n") is False
    assert is_period(None) is False
    assert is_period("٢٠٢٦-03") is False  # Arabic-Indic digits match \d, not a period


def test_next_previous_and_range_cross_years() -> None:
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)
    assert [str(m) for m in month_range(Period(2026, 11), Period(2027, 2))] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
    ]
    assert month_range(Period(2026, 5), Period(2026, 5)) == [Period(2026, 5)]
    assert month_range(Period(2026, 5), Period(2026, 4)) == []
    assert month_range(Period(9999, 11), Period(9999, 12)) == [Period(9999, 11), Period(9999, 12)]


def test_no_month_outside_1900_to_9999() -> None:
    with pytest.raises(PeriodError):
        Period(1900, 1).previous()
    with pytest.raises(PeriodError):
        Period(9999, 12).next()
    with pytest.raises(PeriodError, match="「2026-13」无效"):
        Period(2026, 13)


def test_monthly_option_refuses_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="格式不对"):
        check_month("2026-03\n")
    assert str(check_month("2026-03")) == "2026-03"


@pytest.mark.parametrize("start", ["2026-9", "2026-09\n", "２０２６-09"])
def test_demo_start_must_be_a_period(tmp_path, start: str) -> None:
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--start", start])
    assert result.exit_code == 2
    with pytest.raises(PeriodError) as refused:
        parse_period(start)
    assert f"Invalid value for --start: {refused.value}" in result.output  # build's own words
    assert not (tmp_path / "d").exists()


def test_demo_months_must_end_by_9999(tmp_path) -> None:
    args = ["demo", "--out", str(tmp_path / "d"), "--start", "9999-11", "--months", "3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "从 9999-11 起 3 个月超出了 9999-12：请换一个更早的起始月份。" in result.output
