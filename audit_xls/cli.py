"""The audit-xls command line: a thin layer over the library.

Each command parses its options, calls the library, and prints. The library's errors become
what the user sees in one place (`_errors`), worded in --lang; exit codes: 0 ok, 1 problems
found or an input or output that cannot be used, 2 usage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from audit_xls import __version__
from audit_xls.grading.run import HISTORY_NOT_RECORDED as HISTORY_NOT_RECORDED
from audit_xls.history import DEFAULT_HISTORY_NAME, HISTORY_ENV  # not the history: see below
from audit_xls.i18n import LANG_ENV, LANGS, default_lang, say, t

if TYPE_CHECKING:
    from audit_xls.model.period import Period

HISTORY_HELP = {
    True: "Grading history: a SQLite file, created on first use, or a postgresql:// URL "
    "(password from PGPASSWORD or ~/.pgpass).",
    False: "Grading history recorded by grade (a SQLite file or a postgresql:// URL); only "
    "read, never created or changed.",
}


def _default_history() -> str:
    # imported when asked: the CLI, imported before grade starts its readers, stays light
    from audit_xls.history.store import default_history_path

    return str(default_history_path())


def history_option(
    func: Callable[..., Any] | None = None, *, creates: bool = True
) -> Callable[..., Any]:
    """The shared `--history PATH` click option of grade and monthly (parameter history_path).

    `@history_option` is the writer's (grade: the file is created on first use);
    `@history_option(creates=False)` the reader's (monthly), so each help text is true.
    The default is resolved when the command runs, so $AUDIT_XLS_HISTORY set later still counts.
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--history",
            "history_path",
            default=_default_history,
            show_default=f"${HISTORY_ENV} or ./{DEFAULT_HISTORY_NAME}",
            metavar="PATH|URL",
            type=click.Path(dir_okay=False),
            help=HISTORY_HELP[creates],
        )(f)

    return decorate if func is None else decorate(func)


def lang_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The shared `--lang zh|en` option of every command; $AUDIT_XLS_LANG is the default."""
    return click.option(
        "--lang",
        type=click.Choice(list(LANGS)),
        default=default_lang,
        show_default=f"${LANG_ENV} or zh",
        help="Language of messages, labels and workbooks.",
    )(func)


@contextmanager
def _errors(lang: str) -> Iterator[None]:
    """The one mapping of the library's errors to what the user sees, in `lang`, without a
    traceback. An error that names an `option` is a usage error about it, one marked `usage`
    a usage error of the command line (both exit 2); any other error of the library (its own
    classes, among them paths.CannotWrite for an output that cannot be written, or an
    OSError) is its words (exit 1). Anything else is a bug and goes up with its traceback."""
    try:
        yield
    except click.ClickException:
        raise
    except Exception as error:
        if not isinstance(error, OSError) and not type(error).__module__.startswith("audit_xls."):
            raise
        words = say(error, lang)
        option = getattr(error, "option", None)
        if option:
            raise click.BadParameter(words, param_hint=option) from None
        if getattr(error, "usage", False):
            raise click.UsageError(words) from None
        raise click.ClickException(words) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audit-xls")
def cli() -> None:
    """Run inspection standards through Excel: build, grade, summarise."""


# --- standard -------------------------------------------------------------------


@cli.group()
def standard() -> None:
    """Check, show, import and export inspection standards."""


@standard.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@lang_option
def standard_check(files: tuple[str, ...], lang: str) -> None:
    """Check standard files; print a summary per valid file, or every located problem."""
    from audit_xls.standards.show import check_lines

    lines, failed = check_lines(files, lang)
    for line in lines:
        click.echo(line)
    if failed:
        raise SystemExit(1)


@standard.command("show")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON for machines.")
@lang_option
def standard_show(file: str, as_json: bool, lang: str) -> None:
    """Show a standard as a tree: points, groups, criteria counts, rules, hash."""
    from audit_xls.standards.loader import load_standard
    from audit_xls.standards.show import standard_json_text, standard_tree

    with _errors(lang):
        std = load_standard(file)
    if as_json:
        click.echo(standard_json_text(std, lang))
    else:
        click.echo("\n".join(standard_tree(std, lang)))


@standard.command("import")
@click.argument("table", type=click.Path(path_type=str))
@click.option("--out", required=True, metavar="FILE.yaml", help="The standard file to write.")
@click.option(
    "--id",
    "ident",
    metavar="ID",
    help="Standard id [default: the table's 标准信息 sheet, else its file name].",
)
@click.option(
    "--version",
    metavar="V",
    help="Standard version [default: the table's 标准信息 sheet, else 1.0].",
)
@lang_option
def standard_import(
    table: str, out: str, ident: str | None, version: str | None, lang: str
) -> None:
    """Import HQ's Excel table (.xlsx) into a standard file."""
    from audit_xls.standards.show import describe
    from audit_xls.standards.table import import_to_file

    with _errors(lang):
        std = import_to_file(table, out, id=ident, version=version)
    click.echo(t("cli.standard.imported", lang, table=table, out=out, summary=describe(std, lang)))


@standard.command("export")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--out", required=True, metavar="TABLE.xlsx", help="The Excel table to write.")
@lang_option
def standard_export(file: str, out: str, lang: str) -> None:
    """Export a standard file to HQ's Excel table (.xlsx)."""
    from audit_xls.standards.show import describe
    from audit_xls.standards.table import export_to_file

    with _errors(lang):
        std = export_to_file(file, out, lang)
    click.echo(t("cli.standard.exported", lang, file=file, out=out, summary=describe(std, lang)))


# --- build ----------------------------------------------------------------------

_PROGRESS_FROM = 20  # fewer workbooks than this finish before a progress line helps


def _period_option(ctx: click.Context, param: click.Parameter, value: str) -> Period:
    """--period parsed once, here: the commands get a Period."""
    from audit_xls.model.period import PeriodError, parse_period

    try:
        return parse_period(value)
    except PeriodError as error:
        raise click.BadParameter(say(error, _ctx_lang(ctx))) from None


@cli.command()
@click.option(
    "--standard",
    "standard_file",
    required=True,
    metavar="FILE",
    help="The standard (YAML) to issue.",
)
@click.option(
    "--sites",
    "sites_file",
    required=True,
    metavar="SITES",
    help="Sites list: CSV (UTF-8 or GBK) or xlsx with 项目编码, 项目名称, 区域 ...",
)
@click.option(
    "--period",
    required=True,
    metavar="YYYY-MM",
    callback=_period_option,
    help="Inspection month.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Folder for the workbooks and register.",
)
@click.option(
    "--site",
    "site_codes",
    multiple=True,
    metavar="CODE",
    help=(
        "Build only this site (repeatable). If --out already holds issued-PERIOD.csv, its rows "
        "for the other sites are kept; otherwise the register lists only the sites built."
    ),
)
@click.option(
    "--template",
    default=None,
    type=click.Choice(["zh", "en"]),
    help="Workbook labels [default: --lang].",
)
@click.option(
    "--protect-password",
    "--password",
    "password",
    default=None,
    metavar="PW",
    help=(
        "Password for the sheet and workbook-structure protection. Protection is on either "
        "way; without a password anyone can lift it, and tampering is caught by the "
        "fingerprint when graded."
    ),
)
@click.option(
    "--issued-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="Issue date written into the workbooks [default: today].",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes building workbooks.",
)
@click.option(
    "--history",
    "history_path",
    metavar="PATH",
    default=None,
    help="Grading history: add a 复查 section listing each site's earlier problems not yet "
    "closed (only read).",
)
@lang_option
def build(
    standard_file: str,
    sites_file: str,
    period: Period,
    out_dir: str,
    site_codes: tuple[str, ...],
    template: str,
    password: str | None,
    issued_on,
    jobs: int,
    history_path: str | None,
    lang: str,
) -> None:
    """Build one inspection workbook per site, and the issued register issued-PERIOD.csv."""
    from audit_xls.workbook.issue import issue

    progress = None
    if sys.stderr.isatty():

        def progress(done: int, total: int) -> None:
            if total < _PROGRESS_FROM:
                return
            click.echo(
                "\r" + t("cli.build.progress", lang, done=done, total=total), err=True, nl=False
            )
            if done == total:
                click.echo(err=True)

    with _errors(lang):
        issued = issue(
            standard_file, sites_file, period, out_dir, site_codes=site_codes, template=template,
            lang=lang, history=history_path, issued_on=issued_on.date() if issued_on else None,
            password=password, progress=progress, jobs=jobs,
        )  # fmt: skip
    click.echo(issued.message(lang))


# --- grade ----------------------------------------------------------------------


@cli.command()
@click.argument("returns", type=click.Path(exists=True))
@click.option(
    "--standards",
    "standards_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Folder of standards (YAML) [default: ./standards, else the shipped ones].",
)
@click.option(
    "--issued",
    "issued_file",
    metavar="REGISTER",
    type=click.Path(exists=True, dir_okay=False),
    help="The issued register (issued-PERIOD.csv) written by build; without it, returns are "
    "not matched to what was issued and nobody is listed as missing.",
)
@click.option(
    "--out",
    required=True,
    metavar="SUMMARY.xlsx",
    type=click.Path(dir_okay=False),
    help="HQ's summary workbook to write.",
)
@click.option(
    "--csv",
    "csv_path",
    metavar="RESULTS.csv",
    type=click.Path(dir_okay=False),
    help="Also write one row per workbook x criterion (UTF-8 with BOM).",
)
@click.option(
    "--photos",
    "photos_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Folder for the photos kept from graded returns, each written once "
    "[default: photos/ beside the summary].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON on stdout.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Reader processes (default: one per core). Each returned file is read in one of "
    "them, with a memory and time limit, so a file that crashes the reader cannot stop "
    "the batch.",
)
@lang_option
@history_option
@click.option("--no-history", is_flag=True, help="Do not record this run in the history.")
def grade(
    returns: str,
    standards_dir: str | None,
    issued_file: str | None,
    out: str,
    csv_path: str | None,
    photos_dir: str | None,
    as_json: bool,
    jobs: int | None,
    lang: str,
    history_path: str,
    no_history: bool,
) -> None:
    """Grade a folder (or .zip) of returned workbooks and write HQ's summary.

    Exit code 0 when every returned workbook was graded; 1 when any was sent back or skipped,
    nothing was found, or an input or output could not be used; 2 for a usage error; 3 when
    the summary (and CSV) were written but the history could not record the run.
    """
    from audit_xls.grading.run import run_grade

    # a progress bar on a terminal only (stderr: --json keeps stdout clean)
    bar = progress = None
    if sys.stderr.isatty():
        bar = click.progressbar(length=1, label=t("cli.grade.progress", lang), file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

    with _errors(lang):
        outcome = run_grade(
            returns, out, standards_dir=standards_dir, issued_file=issued_file,
            csv_path=csv_path, photos_dir=photos_dir, history=None if no_history else history_path,
            jobs=jobs, lang=lang, progress=progress, reading=bar,
        )  # fmt: skip
    if as_json:
        click.echo(outcome.json_text())
    for line in outcome.lines:
        click.echo(line, err=as_json)  # with --json, stdout holds the JSON alone
    for line in outcome.errors:
        click.echo(line, err=True)
    sys.exit(outcome.exit_code)


# --- monthly --------------------------------------------------------------------


def _month_option(ctx: click.Context, param: click.Parameter, value: str | None) -> Period | None:
    from audit_xls.history.monthly import check_month

    if value is None:
        return None
    try:
        return check_month(value)
    except ValueError as error:
        raise click.BadParameter(say(error, _ctx_lang(ctx))) from None


def _ctx_lang(ctx: click.Context) -> str:
    """--lang as parsed so far (options parse in order; the environment's otherwise)."""
    return ctx.params.get("lang") or default_lang()


@cli.command()
@history_option(creates=False)
@click.option(
    "--from", "from_", metavar="YYYY-MM", callback=_month_option, help="First month (inclusive)."
)
@click.option("--to", metavar="YYYY-MM", callback=_month_option, help="Last month (inclusive).")
@click.option("--standard", "standard_id", metavar="ID", help="Only this standard id.")
@click.option("--region", metavar="R", help="Only sites of this region.")
@click.option(
    "--out",
    required=True,
    metavar="MONTHLY.xlsx",
    type=click.Path(dir_okay=False),
    help="The monthly workbook to write.",
)
@click.option(
    "--csv",
    "csv_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Also write each pivot as a UTF-8-BOM CSV into DIR.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the pivots as JSON on stdout.")
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    callback=lambda c, p, v: _day_option(c, p, v),
    help="Day overdue problems and completion rates are counted to (default: today).",
)
@lang_option
def monthly(
    history_path: str,
    from_: Period | None,
    to: Period | None,
    standard_id: str | None,
    region: str | None,
    out: str,
    csv_dir: str | None,
    as_json: bool,
    as_of: Any,
    lang: str,
) -> None:
    """Month-by-month pivots from the grading history: sites, regions, sections, ranks."""
    from audit_xls.history.monthly_exports import monthly_json_text
    from audit_xls.history.monthly_run import done_message, run_monthly

    with _errors(lang):
        report = run_monthly(
            history_path, out, from_=from_, to=to, standard=standard_id, region=region,
            csv_dir=csv_dir, as_of=as_of, lang=lang,
        )  # fmt: skip
    click.echo(done_message(report, out, lang), err=as_json)
    if as_json:
        click.echo(monthly_json_text(report))


# --- demo -----------------------------------------------------------------------


@cli.command()
@click.option(
    "--out",
    default="demo-output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for everything the demo writes (emptied first if a previous demo's).",
)
@click.option(
    "--months",
    default=3,
    show_default=True,
    type=click.IntRange(1, 12),
    help="How many months to issue, fill, grade and summarise.",
)
@click.option(
    "--seed",
    default=7,
    show_default=True,
    type=int,
    help="Random seed: the same seed gives the same fillings and results.",
)
@click.option(
    "--start", default="2026-09", show_default=True, metavar="YYYY-MM", help="The first month."
)
@click.option(
    "--no-soffice",
    is_flag=True,
    help="Do not save returns through LibreOffice even when it is installed.",
)
@lang_option
def demo(out: str, months: int, seed: int, start: str, no_soffice: bool, lang: str) -> None:
    """Issue, fill, return, grade and summarise the sample sites over a few months."""
    from pathlib import Path

    from audit_xls.demo import account, demo_months, run_demo

    with _errors(lang):
        first = demo_months(start, months)[0]
        result = run_demo(
            Path(out),
            months=months,
            seed=seed,
            start=first,
            use_soffice=not no_soffice,
            echo=lambda line: click.echo(line, err=True),
            lang=lang,
        )
    for line in account(result, lang):
        click.echo(line)


@cli.group("history")
def history_group() -> None:
    """Move, merge and check grading histories (SQLite files or PostgreSQL URLs)."""


@history_group.command("migrate")
@click.option(
    "--from", "source", required=True, metavar="SQLITE", type=click.Path(dir_okay=False),
    help="The SQLite history to copy (only read).",
)  # fmt: skip
@click.option(
    "--to", "target", required=True, metavar="URL",
    help="Where to: a postgresql:// URL (or another SQLite path); its tables are created.",
)  # fmt: skip
@lang_option
def history_migrate(source: str, target: str, lang: str) -> None:
    """Copy a whole SQLite history into PostgreSQL; run again, it goes on where it stopped."""
    from audit_xls.history.tools import migrate

    def progress(table: str, done: int, total: int) -> None:
        click.echo(f"{table}: {done}/{total}", err=True)

    with _errors(lang):
        summary = migrate(source, target, progress=progress)
    click.echo(summary.message(lang))


@history_group.command("merge")
@click.argument("sources", nargs=-1, required=True, metavar="HISTORY...")
@click.option(
    "--into", "into", required=True, metavar="PATH|URL",
    help="The history to merge into (created on first use), SQLite or PostgreSQL.",
)  # fmt: skip
@lang_option
def history_merge(sources: tuple[str, ...], into: str, lang: str) -> None:
    """Merge offices' histories into one, with the recording rules of grade."""
    from audit_xls.history.tools import merge

    with _errors(lang):
        summary = merge(list(sources), into)
    click.echo(summary.message(lang))


@history_group.command("check")
@history_option(creates=False)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@lang_option
def history_check(history_path: str, as_json: bool, lang: str) -> None:
    """Integrity checks of a history, and its counts per month and standard (exit 1 when a
    check fails)."""
    import json

    from audit_xls.history.tools import check

    with _errors(lang):
        report = check(history_path, lang)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for line in report.lines(lang):
            click.echo(line)
    if not report.ok:
        sys.exit(1)


# --- rectify: 整改通知单 out, replies in ------------------------------------------


def _day_option(ctx: click.Context, param: click.Parameter, value: str | None):
    from datetime import date

    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(t("rectify.cli.bad_day", _ctx_lang(ctx), value=value)) from None


@cli.group()
def rectify() -> None:
    """整改 → 复查: notices to the sites with problems, their replies collected."""


@rectify.command("notices")
@click.option(
    "--period",
    required=True,
    metavar="YYYY-MM",
    callback=_period_option,
    help="Month of the inspections: problems found then and still open before it.",
)
@click.option("--out", required=True, metavar="DIR", help="Folder for the notices and register.")
@click.option(
    "--site", "sites", multiple=True, metavar="CODE", help="Only this site (repeat for several)."
)
@click.option("--standards", metavar="DIR", help="Folder of standard files (for their names).")
@click.option(
    "--date",
    "issued_on",
    metavar="YYYY-MM-DD",
    callback=_day_option,
    help="Date of the notices (default: today); days left are counted from it.",
)
@history_option
@lang_option
def rectify_notices(period, out, sites, standards, issued_on, history_path, lang) -> None:
    """One 整改通知单 workbook per site with problems to fix, recorded in the history."""
    from audit_xls.rectify.run import run_notices

    with _errors(lang):
        written = run_notices(
            history_path, period, out, standards=standards, issued_on=issued_on, sites=sites,
            lang=lang,
        )  # fmt: skip
    click.echo(written.message(lang))


@rectify.command("collect")
@click.argument("replies", type=click.Path(exists=True))
@click.option(
    "--issued",
    metavar="REGISTER",
    type=click.Path(exists=True, dir_okay=False),
    help="The notices register (notices-PERIOD.csv): lists who has not replied.",
)
@click.option("--out", required=True, metavar="REPORT.xlsx", help="The replies workbook.")
@click.option("--json", "as_json", is_flag=True, help="Print the replies as JSON on stdout.")
@click.option(
    "--today",
    metavar="YYYY-MM-DD",
    callback=_day_option,
    help="The reply date (default: today): late replies and future dates use it.",
)
@click.option(
    "--photos",
    "photos_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Folder for the after-photos kept from accepted replies, each written once "
    "[default: photos/ beside the report].",
)
@history_option
@lang_option
def rectify_collect(replies, issued, out, as_json, today, photos_dir, history_path, lang) -> None:
    """Read returned notices, send back what cannot be trusted, record the replies."""
    import json

    from audit_xls.rectify.report import account_lines, to_json
    from audit_xls.rectify.run import run_collect

    with _errors(lang):
        collected = run_collect(
            replies, history_path, out, issued=issued, today=today, photos=photos_dir, lang=lang
        )
    lines = account_lines(collected, out, lang)
    if as_json:
        click.echo(json.dumps(to_json(collected, lang), ensure_ascii=False, indent=2))
        for line in lines:
            click.echo(line, err=True)
    else:
        for line in lines:
            click.echo(line)
    raise SystemExit(collected.exit_code())


def main() -> None:
    cli(prog_name="audit-xls")
