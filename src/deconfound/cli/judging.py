"""CLI verb ``deconfound judge``: label a records table with one or more judges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deconfound.cli._app import app, console, err_console, user_errors
from deconfound.cli._options import RecordsArg, RecordsOut, ScenarioSource
from deconfound.errors import InputError
from deconfound.judges.base import Judge, Judgment
from deconfound.judges.cache import JudgmentCache
from deconfound.locking import LockHolder
from deconfound.records import read_records
from deconfound.records.io import fingerprint, format_of, write_merged


def _is_llm(spec: str) -> bool:
    s = spec.strip()
    return any(s == k or s.startswith((f"{k}:", f"{k}@")) for k in ("rubric", "benchmark"))


def _build_judges(
    specs: list[str],
    *,
    max_connections: int,
    cache_dir: Path | None,
    cache: bool,
    batch: bool | int | None = None,
) -> tuple[list[Judge], JudgmentCache]:
    from deconfound.judges.registry import resolve_judge

    store = JudgmentCache(
        cache_dir,
        enabled=cache,
        on_notice=lambda m: err_console.print(f"notice: {m}", markup=False, highlight=False),
    )
    judges: list[Judge] = []
    for spec in specs:
        s = spec.strip()
        if _is_llm(s) and ":" not in s:
            raise InputError(
                f"judge {s!r} uses an Inspect model role, which only exists during a run; on a "
                "records table name the model, e.g. rubric:anthropic/claude-sonnet-4-5",
                field="judge",
            )
        if not _is_llm(s):
            # the offline judge caches too, so a killed run does not lose its work
            judges.append(resolve_judge(s, cache=store) if s == "offline" else resolve_judge(s))
            continue
        # Deferred: importing Inspect costs seconds that lexical-only runs need not pay.
        from inspect_ai.model import GenerateConfig

        config = GenerateConfig(max_connections=max_connections, batch=batch)
        judge = resolve_judge(s, cache=store, config=config)
        if hasattr(judge, "model"):
            try:  # bind now: a missing API key or SDK should stop us before any work
                judge.model()
            except Exception as exc:
                raise InputError(
                    f"cannot use the model of judge {s!r}: {exc}", field="judge"
                ) from exc
        judges.append(judge)
    if any(getattr(j, "cache", None) is store for j in judges):
        store.open()  # check the cache (and move a corrupt one aside) before any judging
    return judges, store


def _scenario_contexts(source: str | None) -> dict[str, str] | None:
    if source is None:
        return None
    from deconfound.data.sources import load_scenarios

    return {s.id: s.judge_context for s in load_scenarios(source).scenarios}


def _waiting(output: Path) -> Callable[[LockHolder | None], None]:
    def tell(holder: LockHolder | None) -> None:
        who = holder.describe() if holder else "another process"
        err_console.print(
            f"waiting for {escape(who)} to finish writing {escape(str(output))}", highlight=False
        )

    return tell


def _summary(judges: list[Judge], counts: dict[str, Counter[str]]) -> Table:
    table = Table(title="judgments", title_justify="left")
    table.add_column("judge")
    table.add_column("labels")
    for judge in judges:
        parts = ", ".join(f"{escape(k)} {v}" for k, v in sorted(counts[judge.id].items()))
        table.add_row(escape(judge.id), parts or "-")
    return table


@app.command("judge")
@user_errors
def judge(
    records_path: RecordsArg,
    output: RecordsOut,
    judge_specs: list[str] = typer.Option(
        ...,
        "--judge",
        "-j",
        help="Judge spec, repeatable: lexical, offline, rubric:<provider/model>, "
        "benchmark:<provider/model>, or a plug-in judge name.",
    ),
    max_connections: int = typer.Option(
        10, "--max-connections", min=1, help="Most judge calls in flight at once."
    ),
    scenarios: ScenarioSource = None,
    batch: bool = typer.Option(
        False,
        "--batch",
        help="Send LLM judge calls through the provider's batch API (about half the price; "
        "results can take hours).",
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Requests per batch (implies --batch)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    cache_dir: Path | None = typer.Option(
        None,
        "--cache-dir",
        help="Judgment cache directory (default: $DECONFOUND_CACHE_DIR or the user cache dir).",
    ),
    wait: float = typer.Option(
        600.0,
        "--wait",
        min=0.0,
        help="Seconds to wait while another process writes the output; then exit 1 unwritten.",
    ),
) -> None:
    """Label every response of a records table with each judge.

    Each judge adds one row per response (replacing earlier rows of the same judge); other
    judges' rows are kept; the output may be the input table. Missing or errored responses get
    engagement "missing" without a judge call. LLM and offline judgments are cached by (judge,
    judge version, input hash). A table without a judge_context column takes each category's
    judge context from --scenarios.

    Concurrent judges writing one output do not lose each other's rows: the write takes a lock
    beside the output, and if the file changed while judging its rows are merged (this run's
    judges replace only their own rows).
    """
    from deconfound.judges.apply import apply_judges, unique_responses

    format_of(output)  # fail on a bad output name before any judging
    seen = fingerprint(output)  # before reading: a change after this point is merged, not lost
    records = read_records(records_path)
    judges, store = _build_judges(
        judge_specs,
        max_connections=max_connections,
        cache_dir=cache_dir,
        cache=not no_cache,
        batch=batch_size if batch_size is not None else (True if batch else None),
    )
    contexts = _scenario_contexts(scenarios)
    if (
        any(j.id.startswith("benchmark") for j in judges)
        and contexts is None
        and "judge_context" not in records.columns
    ):
        err_console.print(
            "[yellow]warning:[/] the benchmark judge runs without category context; "
            "pass --scenarios to give it the benchmark's per-category judge context"
        )
    n = len(unique_responses(records))
    counts: dict[str, Counter[str]] = {j.id: Counter() for j in judges}

    with Progress(
        TextColumn("[bold]judging"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        bar = progress.add_task("judging", total=n * len(judges))

        written: set[str] = {j.id for j in judges}

        def tick(judge: Judge, judgment: Judgment) -> None:
            written.add(judgment.judge)
            label = judgment.engagement or judgment.benchmark_decision or "none"
            counts[judge.id][label] += 1
            progress.advance(bar)

        try:
            table = apply_judges(
                records,
                judges,
                max_connections=max_connections,
                judge_contexts=contexts,
                on_judgment=tick,
            )
        finally:
            store.close()
    _, merged = write_merged(table, output, written, seen=seen, wait=wait, on_wait=_waiting(output))
    console.print(_summary(judges, counts))
    cached = f"; cache hits {store.hits}" if store.enabled and store.hits else ""
    if merged:
        console.print(
            f"{escape(str(output))} changed while judging (another writer): merged, keeping its "
            "rows and replacing only this run's judges",
            highlight=False,
        )
        table = read_records(output)  # count what the file holds now, not what this run held
        n = len(unique_responses(table))
    console.print(_written(output, table, n, [j.id for j in judges]) + cached, highlight=False)


def _written(output: Path, table: pd.DataFrame, n: int, labelled: list[str]) -> str:
    """What the file holds, counted as it is: one row per response per judge, every judge named.

    The table keeps the judges that were already in it, so its rows are not n x (judges run now).
    """
    in_file = list(dict.fromkeys(str(j) for j in table["judge"]))
    shape = "=" if len(table) == n * len(in_file) else "for"
    return (
        f"wrote {escape(str(output))}: {len(table)} rows {shape} {n} responses x "
        f"{len(in_file)} {'judge' if len(in_file) == 1 else 'judges'} "
        f"({escape(', '.join(in_file))}); labelled now: {escape(', '.join(labelled))}"
    )
