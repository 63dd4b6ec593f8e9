"""Errors that reach the user.

Every error about bad input names where it happened (file, line or record, field) so the user can
fix the input; the CLI turns them into a message and exit code 2 without writing output.
"""

from __future__ import annotations

from pathlib import Path

INPUT_ERROR_EXIT_CODE = 2


class DeconfoundError(Exception):
    """Base class for errors deconfound reports to the user."""


class InputError(DeconfoundError):
    """Bad input: a file, record or field that cannot be used as given.

    Args:
        message: What is wrong and, where possible, what to do instead.
        path: The file the problem is in.
        location: A line number ("line 12"), record ("record 3") or other position.
        field: The column or key at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        location: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.location = location
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = [p for p in (self.path, self.location) if p]
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


def not_a_file(path: str | Path, expected: str) -> InputError:
    """The error for a path that should be a file and is not: a folder is called a folder.

    Args:
        path: The path given.
        expected: What should be there, e.g. "a records table (.parquet, .csv or .jsonl)".
    """
    p = Path(path)
    if p.is_dir():
        return InputError(f"is a folder, not a file; expected {expected}", path=p)
    return InputError(f"no such file; expected {expected}", path=p)


class DataNotice(UserWarning):
    """Something the user should know about the input data that does not stop the work.

    Issued with :func:`warnings.warn` so library callers can filter or record it; the CLI prints
    each one as a single ``notice:`` line (what differs, what was recorded), without the Python
    source line a default warning display adds.
    """
