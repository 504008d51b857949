"""The audit-xls command line: a thin layer over the library.

Each command parses its options, calls one library function, and prints. Library errors
become click errors with the same message; exit codes: 0 ok, 1 problems found, 2 usage.
"""

from __future__ import annotations

import click

from audit_xls import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audit-xls")
def cli() -> None:
    """Run inspection standards through Excel: build, grade, summarise."""


# --- standard (issue 2) -------------------------------------------------------------------


def _standard_error(error: Exception) -> click.ClickException:
    """A library error as the click error the user sees (exit 1, no traceback)."""
    return click.ClickException(str(error))


def _standard_summary(std) -> str:
    return (
        f"{std.label} · {len(std.sections)} 个一级指标 · {len(std.criteria)} 条检查标准 · "
        f"{_dec(std.points)} 分 · 哈希 {std.content_hash[:12]}"
    )


def _dec(value) -> str:
    from audit_xls.standard import dec_str

    return dec_str(value)


def _standard_json(std) -> dict:
    def rule(r) -> dict:
        return {**r.canonical(), "phrase": r.phrase()}

    return {
        "id": std.id,
        "name": std.name,
        "version": std.version,
        "hash": std.content_hash,
        "points": _dec(std.points),
        "criteria": len(std.criteria),
        "assumed": std.assumed,
        "grade_bands": [{"name": n, "min": _dec(m)} for n, m in std.grade_bands],
        "sections": [
            {
                "code": s.code,
                "name": s.name,
                "points": _dec(s.points),
                "criteria": len(s.criteria),
                "assumed": s.assumed,
                "groups": [
                    {
                        "name": g.name,
                        "points": _dec(g.points) if g.points is not None else None,
                        "method": g.method,
                        "rule": rule(g.rule),
                        "assumed": g.assumed,
                        "criteria": [
                            {
                                "code": c.code,
                                "text": c.text,
                                "rule": rule(c.rule),
                                "own_rule": c.own_rule,
                                "assumed": c.assumed,
                            }
                            for c in g.criteria
                        ],
                    }
                    for g in s.groups
                ],
            }
            for s in std.sections
        ],
    }


def _standard_tree(std) -> list[str]:
    def mark(note: str | None) -> str:
        return f"  [假定] {note}" if note else ""

    bands = " ".join(f"{n}≥{_dec(m)}" for n, m in std.grade_bands)
    lines = [
        f"{std.name} ({std.label}){mark(std.assumed)}",
        f"哈希 {std.content_hash}",
        f"{len(std.sections)} 个一级指标 · {sum(len(s.groups) for s in std.sections)} 个二级指标"
        f" · {len(std.criteria)} 条检查标准 · {_dec(std.points)} 分 · 等级 {bands}",
    ]
    for s in std.sections:
        lines.append(
            f"{s.code} {s.name} {_dec(s.points)}分 · {len(s.criteria)} 条{mark(s.assumed)}"
        )
        for g in s.groups:
            name = g.name or "（无二级指标）"
            points = f" {_dec(g.points)}分" if g.points is not None else ""
            lines.append(
                f"  {name}{points} · {len(g.criteria)} 条 · {g.method} · {g.rule.phrase()}"
                f"{mark(g.assumed)}"
            )
            for c in g.criteria:
                if c.own_rule or c.assumed:
                    own = f" · {c.rule.phrase()}" if c.own_rule else ""
                    lines.append(f"    {c.code}{own}{mark(c.assumed)}")
    return lines


@cli.group()
def standard() -> None:
    """Check, show, import and export inspection standards."""


@standard.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def standard_check(files: tuple[str, ...]) -> None:
    """Check standard files; print a summary per valid file, or every located problem."""
    from audit_xls.standard import StandardError, load_standard

    failed = 0
    for file in files:
        try:
            std = load_standard(file)
        except StandardError as error:
            failed += 1
            for problem in error.problems:
                click.echo(str(problem))
            continue
        click.echo(f"{file}: {_standard_summary(std)}")
    if failed:
        click.echo(f"{failed} 个文件有问题（共 {len(files)} 个）：请按上面的位置修改后再检查")
        raise SystemExit(1)


@standard.command("show")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON for machines.")
def standard_show(file: str, as_json: bool) -> None:
    """Show a standard as a tree: points, groups, criteria counts, rules, hash."""
    import json

    from audit_xls.standard import StandardError, load_standard

    try:
        std = load_standard(file)
    except StandardError as error:
        raise _standard_error(error) from None
    if as_json:
        click.echo(json.dumps(_standard_json(std), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(_standard_tree(std)))


@standard.command("import")
@click.argument("table", type=click.Path(path_type=str))
@click.option("--out", required=True, metavar="FILE.yaml", help="The standard file to write.")
@click.option("--id", "ident", metavar="ID", help="Standard id (default: the table's file name).")
@click.option("--version", metavar="V", help="Standard version (default: 1.0).")
def standard_import(table: str, out: str, ident: str | None, version: str | None) -> None:
    """Import HQ's Excel table (.xlsx) into a standard file."""
    from audit_xls.standard import StandardError, save_standard
    from audit_xls.table import import_table

    try:
        std = save_standard(import_table(table, id=ident, version=version), out)
    except StandardError as error:
        raise _standard_error(error) from None
    except OSError as error:
        raise click.ClickException(
            f"{out}: 无法写入（{error.strerror}）：请检查目录和权限"
        ) from None
    click.echo(f"已导入 {table} -> {out}: {_standard_summary(std)}")


@standard.command("export")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--out", required=True, metavar="TABLE.xlsx", help="The Excel table to write.")
def standard_export(file: str, out: str) -> None:
    """Export a standard file to HQ's Excel table (.xlsx)."""
    import os
    from pathlib import Path

    from audit_xls.standard import StandardError, load_standard
    from audit_xls.table import export_table

    try:
        std = load_standard(file)
    except StandardError as error:
        raise _standard_error(error) from None
    target = Path(out)
    tmp = target.with_name(f".{target.stem}.tmp.xlsx")
    try:
        export_table(std, tmp)
        os.replace(tmp, target)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise click.ClickException(
            f"{out}: 无法写入（{error.strerror}）：请检查目录和权限"
        ) from None
    click.echo(f"已导出 {file} -> {out}: {_standard_summary(std)}")


# --- build (issue 3) ----------------------------------------------------------------------

_PROGRESS_FROM = 20  # fewer workbooks than this finish before a progress line helps


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
@click.option("--period", required=True, metavar="YYYY-MM", help="Inspection month.")
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
    help="Build only this site (repeatable); the register keeps the others.",
)
@click.option(
    "--template",
    default="zh",
    show_default=True,
    type=click.Choice(["zh", "en"]),
    help="Workbook labels.",
)
@click.option(
    "--password",
    default=None,
    metavar="PW",
    help="Sheet protection password (protection is on either way).",
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
def build(
    standard_file: str,
    sites_file: str,
    period: str,
    out_dir: str,
    site_codes: tuple[str, ...],
    template: str,
    password: str | None,
    issued_on,
    jobs: int,
) -> None:
    """Build one inspection workbook per site, and the issued register issued-PERIOD.csv."""
    import sys
    from datetime import date

    from audit_xls.build import BuildError, build_all, parse_period, register_path
    from audit_xls.sites import SitesError, load_sites
    from audit_xls.standard import StandardError, load_standard

    try:
        parse_period(period)
        standard_model = load_standard(standard_file)
        sites = load_sites(sites_file)
    except (BuildError, SitesError, StandardError) as error:
        raise click.ClickException(str(error)) from None
    if site_codes:
        known = {s.code for s in sites}
        unknown = [c for c in site_codes if c not in known]
        if unknown:
            raise click.ClickException(
                f"{sites_file}：没有项目编码「{'」「'.join(unknown)}」。请检查 --site 或项目清单。"
            )
        sites = [s for s in sites if s.code in site_codes]

    progress = None
    if len(sites) >= _PROGRESS_FROM and sys.stderr.isatty():

        def progress(done: int, total: int) -> None:
            end = "\n" if done == total else ""
            click.echo(f"\r已生成 {done}/{total}", err=True, nl=False)
            if end:
                click.echo(err=True)

    try:
        entries = build_all(
            standard_model,
            sites,
            period,
            out_dir,
            template=template,
            issued_on=issued_on.date() if issued_on else date.today(),
            password=password,
            progress=progress,
            merge=bool(site_codes),
            jobs=jobs,
        )
    except (BuildError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"已生成 {len(entries)} 个工作簿到 {out_dir}，发放登记表：{register_path(out_dir, period)}"
    )


# --- grade (issue 4) ----------------------------------------------------------------------


# --- monthly (issue 5) --------------------------------------------------------------------


def _month_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from audit_xls.monthly import check_month

    if value is None:
        return None
    try:
        return check_month(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _history_option(func):
    """The --history option shared with grade (defined once, in history.py)."""
    from audit_xls.history import history_option

    return history_option(func)


@cli.command()
@_history_option
@click.option("--from", "from_", metavar="YYYY-MM", callback=_month_option,
              help="First month (inclusive).")
@click.option("--to", metavar="YYYY-MM", callback=_month_option, help="Last month (inclusive).")
@click.option("--standard", "standard_id", metavar="ID", help="Only this standard id.")
@click.option("--region", metavar="R", help="Only sites of this region.")
@click.option("--out", required=True, metavar="MONTHLY.xlsx", type=click.Path(dir_okay=False),
              help="The monthly workbook to write.")
@click.option("--csv", "csv_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Also write each pivot as a UTF-8-BOM CSV into DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print the pivots as JSON on stdout.")
def monthly(
    history_path: str,
    from_: str | None,
    to: str | None,
    standard_id: str | None,
    region: str | None,
    out: str,
    csv_dir: str | None,
    as_json: bool,
) -> None:
    """Month-by-month pivots from the grading history: sites, regions, sections, ranks."""
    from audit_xls.history import HistoryError
    from audit_xls.monthly import (
        MonthlyError,
        monthly_json_text,
        monthly_report,
        write_monthly,
        write_monthly_csv,
    )

    try:
        report = monthly_report(history_path, from_, to, standard_id, region)
        write_monthly(report, out)
        if csv_dir:
            write_monthly_csv(report, csv_dir)
    except (HistoryError, MonthlyError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"{error.filename or out}：无法写入（{error.strerror}）。"
                                   "请检查文件夹是否存在、文件是否在 Excel 中打开。") from None
    months = report.months
    click.echo(
        f"已写出 {out}：{months[0]} 至 {months[-1]} 共 {len(months)} 个月，"
        f"{len(report.site_rates)} 个项目，{len(report.detail)} 份有效评分。",
        err=as_json,
    )
    if as_json:
        click.echo(monthly_json_text(report))




# --- demo (issue 6) -----------------------------------------------------------------------


def main() -> None:
    cli(prog_name="audit-xls")
