"""`build` as one library call: the standard and the sites loaded, the sites asked for kept,
the outputs checked against the inputs (audit_xls/paths.py), the 复查 rows planned from a
history, then the workbooks and the issued register written (workbook/build.py).
The command line only parses its options and prints what this returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from audit_xls.grading.register import IssuedEntry, register_path
from audit_xls.i18n import DEFAULT_LANG, t
from audit_xls.model.period import Period
from audit_xls.workbook import build
from audit_xls.workbook.build import BuildError, workbook_filename


@dataclass(frozen=True)
class Issued:
    """What build wrote: the register's entries of the sites built, and where."""

    entries: list[IssuedEntry]
    out: Path
    register: Path

    def message(self, lang: str = DEFAULT_LANG) -> str:
        return t(
            "cli.build.done", lang, count=len(self.entries), out=self.out, register=self.register
        )


def issue(
    standard_file: str | Path,
    sites_file: str | Path,
    period: Period,
    out_dir: str | Path,
    *,
    site_codes: Sequence[str] = (),
    template: str | None = None,
    lang: str = DEFAULT_LANG,
    history: str | Path | None = None,
    issued_on: date | None = None,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> Issued:
    """Build one workbook per site (only `site_codes` when given: their rows are merged into
    an existing register) with labels in `template` (default `lang`), and the register.

    Raises the library's errors, each worded in either language: StandardError, SitesError,
    BuildError (a site code the sites file does not list), PathPolicyError (an output among the
    inputs, before anything is read further), HistoryError, RegisterError, and CannotWrite
    (paths.cannot_write) when the folder cannot be written."""
    from audit_xls.grading.sites import load_sites
    from audit_xls.paths import cannot_write, check_outputs
    from audit_xls.standards.loader import load_standard

    standard = load_standard(standard_file)
    sites = load_sites(sites_file)
    if site_codes:
        known = {s.code for s in sites}
        unknown = [c for c in site_codes if c not in known]
        if unknown:
            raise BuildError("cli.build.unknown_sites", sites=sites_file, codes=unknown)
        sites = [s for s in sites if s.code in site_codes]
    out = Path(out_dir)
    outputs = [("--out", out / workbook_filename(s, period)) for s in sites]
    outputs.append(("--out", register_path(out, period)))
    check_outputs(outputs, [("--standard", standard_file), ("--sites", sites_file)])
    words = template or lang  # the workbooks' language
    rechecks = {}
    if history:  # 复查 rows (rectify/recheck.py)
        from audit_xls.rectify.recheck import plan_rechecks

        codes = [s.code for s in sites]
        rechecks = plan_rechecks(history, standard.id, period, codes, words)
    try:
        entries = build.build_all(  # looked up when called (tests replace it)
            standard,
            sites,
            period,
            out,
            template=words,
            issued_on=issued_on or date.today(),
            password=password,
            progress=progress,
            merge=bool(site_codes),
            jobs=jobs,
            rechecks=rechecks,
        )
    except OSError as error:
        raise cannot_write(out, error) from None
    return Issued(entries, out, register_path(out, period))
