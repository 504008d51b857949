"""`monthly` as one library call: the month options checked, the outputs checked against the
history (audit_xls/paths.py), the pivots built (history/monthly.py) and written as the
workbook and, when asked, the CSVs. The command line only parses its options and prints.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from audit_xls.history.monthly import MonthlyError, MonthlyReport
from audit_xls.i18n import DEFAULT_LANG, Ref, t
from audit_xls.model.period import Period


class MonthlyUsageError(MonthlyError):
    """An option the user fixes on the command line (a --csv that is a file): a usage error
    (exit 2) about `option`. (--from after --to is monthly.MonthOrderError.)"""

    usage = True

    def __init__(self, key: str, /, option: str | None = None, **params: object) -> None:
        super().__init__(key, **params)
        self.option = option


def run_monthly(
    history: str | Path,
    out: str | Path,
    *,
    from_: Period | str | None = None,
    to: Period | str | None = None,
    standard: str | None = None,
    region: str | None = None,
    csv_dir: str | Path | None = None,
    as_of: date | None = None,
    lang: str = DEFAULT_LANG,
) -> MonthlyReport:
    """Write the monthly workbook to `out` (and each pivot as a CSV into `csv_dir`); the
    report, for the account and --json. Raises MonthlyUsageError, MonthOrderError,
    PathPolicyError (an output that is the history), MonthlyError, HistoryError and
    CannotWrite (paths.cannot_write)."""
    from audit_xls.history.monthly import monthly_report
    from audit_xls.history.monthly_exports import monthly_csv_paths, write_monthly_csv
    from audit_xls.history.monthly_workbook import write_monthly
    from audit_xls.paths import cannot_write, check_outputs

    if csv_dir and Path(csv_dir).exists() and not Path(csv_dir).is_dir():
        raise MonthlyUsageError("cli.monthly.csv_not_folder", option="--csv", folder=csv_dir)
    csv_files = [("--csv", p) for p in monthly_csv_paths(csv_dir, lang)] if csv_dir else []
    history_file = None if "://" in str(history) else history
    check_outputs([("--out", out), *csv_files], [("--history", history_file)])
    report = monthly_report(history, from_, to, standard, region, as_of, lang)
    try:
        write_monthly(report, out)
        if csv_dir:
            write_monthly_csv(report, csv_dir)
    except OSError as error:
        raise cannot_write(error.filename or out, error, Path(out).name) from None
    return report


def done_message(report: MonthlyReport, out: str | Path, lang: str = DEFAULT_LANG) -> str:
    """What monthly wrote: the workbook, its months, sites and results."""
    months = report.months
    return t(
        "cli.monthly.done",
        lang,
        out=out,
        first=months[0],
        last=months[-1],
        months=Ref.to("count.months", count=len(months)),
        sites=Ref.to("count.sites", count=len(report.site_rates)),
        results=Ref.to("count.results", count=len(report.detail)),
    )
