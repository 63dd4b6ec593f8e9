"""CLI verb ``deconfound fetch``: published per-scenario results at a pinned, verified commit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from deconfound.cli._app import app, console, user_errors
from deconfound.data.published import PUBLISHED


@app.command("fetch")
@user_errors
def fetch(
    name: Annotated[
        str,
        typer.Argument(help=f"Result set: {', '.join(PUBLISHED)}.", show_default=False),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the files into.")],
) -> None:
    """Download a published study's per-scenario results (sha256-checked) for `import`.

    Files come from the study's repository at a pinned commit; each is checked against its
    sha256 before anything is written. Offline, set DECONFOUND_AEI_ELESSAN_DIR to a local copy.
    """
    from deconfound.data.published import fetch_published, lookup

    result = fetch_published(name, output)
    kept = len(lookup(name).files) - len(result.written)
    console.print(
        f"{escape(str(result.folder))}: {len(result.written)} file(s) written"
        + (f", {kept} already present" if kept else "")
        + f", all sha256-verified (from {escape(result.source)})",
        highlight=False,
        soft_wrap=True,
    )


__all__ = ["fetch"]
