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


@cli.group()
def standard() -> None:
    """Check, show and import inspection standards."""


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


# --- demo (issue 6) -----------------------------------------------------------------------


def main() -> None:
    cli(prog_name="audit-xls")
