"""The README tells the truth: its sample output is what the commands print, and every command
is documented there and has help text."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from audit_xls.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
        else:
            found.append((f"{prefix}{name}", command))
    return found


def test_every_command_is_in_the_readme_and_has_help() -> None:
    for name, command in commands(cli):
        assert f"`audit-xls {name}" in README, f"audit-xls {name} is missing from the README"
        assert command.help, f"audit-xls {name} has no help text"
        result = CliRunner().invoke(cli, [*name.split(), "--help"])
        first_words = " ".join(command.help.split()[:4])
        assert result.exit_code == 0 and first_words in " ".join(result.output.split())


def test_the_standard_check_line_in_the_readme_is_what_it_prints(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["standard", "check", "standards/kefu-dudao.yaml"])
    shown = re.search(r"^#  (standards/kefu-dudao\.yaml: .*)$", README, re.M)
    assert shown is not None
    assert result.output.strip() == shown.group(1)


def test_the_build_line_in_the_readme_is_what_it_prints(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "issued" / "2026-11"
    result = CliRunner().invoke(cli, ["build", "--standard", "standards/kefu-dudao.yaml",
                                      "--sites", "samples/sites.csv", "--period", "2026-11",
                                      "--out", str(out)])  # fmt: skip
    shown = re.search(r"^#  (已生成 .*)$", README, re.M)
    assert shown is not None
    assert result.output.strip() == shown.group(1).replace("issued/2026-11", str(out))
