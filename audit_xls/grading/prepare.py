"""What `grade` checks before it reads a single return: the policy, not the command line.

Which paths are acceptable (a returns folder or .zip; a summary named *.xlsx; outputs that
keep off the inputs, audit_xls/paths.py, and whose folders exist), where standards are looked
for (standards.loader.standards_folder), the standards and the issued register loaded, and the
history writable: everything that would otherwise fail only at the end of a long run. The CLI
turns the errors into its own (a usage error names the option; the rest exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audit_xls.grading.register import IssuedEntry, read_issued
from audit_xls.i18n import Said
from audit_xls.model.standard import Standard


class GradeSetupError(Said, ValueError):
    """A grade input or output that cannot work, found before grading. `option` names the
    option or argument it is about (a usage error), None when the run as a whole cannot go."""

    def __init__(self, key: str, /, option: str | None = None, **params: object) -> None:
        super().__init__(key, **params)
        self.option = option


@dataclass
class GradeSetup:
    standards: list[Standard]
    standards_folder: Path
    issued: list[IssuedEntry] | None
    photos: Path  # where the photos kept from the returns go


def prepare_grade(
    returns: str | Path,
    out: str | Path,
    *,
    standards_dir: str | Path | None = None,
    issued_file: str | Path | None = None,
    csv_path: str | Path | None = None,
    photos_dir: str | Path | None = None,
    history: str | Path | None = None,
) -> GradeSetup:
    """Check grade's inputs and outputs in the order a person fixes them; raise
    GradeSetupError, StandardsFolderError (--standards), PathPolicyError (an output among the
    inputs), StandardError, RegisterError, HistoryError or OSError. `history` None: not
    recorded."""
    from audit_xls.history.store import check_writable
    from audit_xls.outputs.photos import default_folder
    from audit_xls.paths import check_outputs
    from audit_xls.standards.loader import load_standards, standards_folder

    if Path(returns).is_file() and Path(returns).suffix.lower() != ".zip":
        raise GradeSetupError("cli.grade.single_file", option="RETURNS", returns=returns)
    if Path(out).suffix.lower() != ".xlsx":
        raise GradeSetupError("cli.grade.out_not_xlsx", option="--out", out=out)
    photos = Path(photos_dir) if photos_dir else default_folder(out)
    folder = standards_folder(standards_dir)
    check_outputs(
        [("--out", out), ("--csv", csv_path), ("--photos", photos),
         ("--history", None if history is None or "://" in str(history) else history)],
        [("RETURNS", returns), ("--issued", issued_file), ("--standards", folder)],
    )  # fmt: skip
    standards = load_standards(folder)
    issued = read_issued(issued_file) if issued_file else None
    if not standards:
        raise GradeSetupError("cli.grade.no_standards", folder=folder)
    for target in (out, csv_path, str(photos)):
        if target and not Path(target).resolve().parent.is_dir():
            raise GradeSetupError("cli.grade.no_folder", target=target, folder=Path(target).parent)
    if history is not None:
        check_writable(history)
    return GradeSetup(standards, folder, issued, photos)
