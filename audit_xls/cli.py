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


# --- grade (issue 4) ----------------------------------------------------------------------


# --- monthly (issue 5) --------------------------------------------------------------------


# --- demo (issue 6) -----------------------------------------------------------------------


def main() -> None:
    cli(prog_name="audit-xls")
