"""audit-xls: run inspection standards through Excel."""

__version__ = "0.1.0"


def main() -> None:
    """The `audit-xls` command (the console script's entry point). The CLI is imported here,
    not at the top of the script: each reader process (grading/pool.py, spawned) runs that
    script again as its __main__, and needs none of the CLI (click, the history)."""
    import sys

    from audit_xls.grading.readers import start_early

    start_early(sys.argv[1:])  # `grade`: its readers boot while the CLI is imported
    from audit_xls.cli import main as cli_main

    cli_main()
