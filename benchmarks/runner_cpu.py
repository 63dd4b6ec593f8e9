"""Where the study runner's CPU goes per sample, under deconfound's Inspect settings and the old.

The study is the throughput benchmark's (``study_throughput.py``: InstrumentalEval scenarios x 3
conditions, one rubric judgment per response, the simulated OpenAI-compatible provider in a child
process), smaller by default. It runs under two settings, in the same process and order:

- ``before``: Inspect's defaults for the settings this benchmark is about, as deconfound ran
  before issue 12 (``log_realtime=True``, ``score_display=True``);
- ``after``: deconfound's defaults now (``deconfound.run.runner.run_defaults``).

Each setting runs twice. Once plainly: the CPU the process used during ``run_study`` (user +
system, ``getrusage``) per sample is the real figure. Once under ``cProfile`` timed by the main
thread's CPU clock (so neither idle waits nor time lost to other processes on a shared machine
count): CPU ms per sample of named items, inclusive (an item's own time and everything it calls,
so items overlap and do not add up). Profiling slows Python code two- to threefold and C code
much less, so read the profiled figures as where the time goes, not as absolute costs.

Usage::

    python benchmarks/runner_cpu.py [--epochs 1] [--latency 0.5] [--out benchmarks/runner_cpu.txt]

The last line is ``cpu_ms_per_sample_before=<a> cpu_ms_per_sample_after=<b> samples=<n>``.
The study's records are checked to be identical under both settings (the settings change how
Inspect logs and displays, never what the study computes).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from study_throughput import BEFORE, CONDITIONS, DEFAULT_SCENARIOS, Sizes, Tee, write_study

#: (label, test on (file, function name)) of the profiled items, in the order printed.
Match = Callable[[str, str], bool]
ITEMS: list[tuple[str, Match]] = [
    (
        "Inspect sample attempts (every sample's solve + score + logging)",
        lambda f, n: f.endswith("_eval/task/run.py") and n == "_task_run_sample_attempt",
    ),
    (
        "  subject model call (Inspect's generate step)",
        lambda f, n: f.endswith("_eval/task/generate.py") and n == "task_generate",
    ),
    (
        "  judge scorer (deconfound, including its model call)",
        lambda f, n: f.endswith("deconfound/judges/scorers.py") and n == "score",
    ),
    (
        "    HTTP client (openai SDK, httpx), both calls",
        lambda f, n: f.endswith("_providers/openai_compatible.py") and n == "generate",
    ),
    (
        "    model-call cache (resume backstop), both calls",
        lambda f, n: (
            f.endswith("inspect_ai/model/_cache.py") and n in ("cache_fetch", "cache_store")
        ),
    ),
    (
        "    transcript events (Inspect), both calls",
        lambda f, n: f.endswith("inspect_ai/log/_transcript.py") and n == "_process_event",
    ),
    (
        "  realtime sample buffer (log_realtime)",
        lambda f, n: "inspect_ai/log/_recorders/buffer/" in f,
    ),
    (
        "  .eval log writing (condense, zip, flush)",
        lambda f, n: (
            (f.endswith("inspect_ai/log/_condense.py") and n == "condense_sample")
            or f.endswith("inspect_ai/log/_recorders/eval.py")
        ),
    ),
    (
        "running metrics for the display (score_display)",
        lambda f, n: f.endswith("_eval/task/run.py") and n == "compute",
    ),
    (
        "final results table (rendered even with display none)",
        lambda f, n: f.endswith("rich/live.py") and n == "stop",
    ),
    (
        "records table from the logs (deconfound)",
        lambda f, n: (
            f.endswith("deconfound/records/inspect_logs.py") and n == "import_inspect_logs"
        ),
    ),
]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def inclusive(stats: pstats.Stats, match: Match) -> float:
    """Seconds spent in the matching functions or below, each call counted once.

    A call into the set from a function outside it adds its cumulative time; calls from inside
    the set are already part of their caller's.
    """
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    inside = {key for key in raw if match(key[0], key[2])}
    total = 0.0
    for key in inside:
        _, _, _, _, callers = raw[key]
        if not callers:  # a root: its own cumulative time
            total += raw[key][3]
        for caller, (_, _, _, cum) in callers.items():
            if caller not in inside:
                total += cum
    return total


def own_code(stats: pstats.Stats) -> float:
    """Self time of deconfound's functions (not counting what they call)."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    return sum(
        v[2] for k, v in raw.items() if "/deconfound/" in k[0] and "site-packages" not in k[0]
    )


@dataclass
class Outcome:
    """One run of the study."""

    cpu_s: float
    wall_s: float
    samples: int
    records: pd.DataFrame
    profile: pstats.Stats | None = None

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / self.samples


def run_once(
    study_file: Path, log_dir: Path, settings: dict[str, Any], profile: bool, env: dict[str, str]
) -> Outcome:
    from deconfound.records import read_records
    from deconfound.run.runner import run_study
    from deconfound.run.study import load_study
    from deconfound.testing.simserver import patched_environ

    study = load_study(study_file)
    # CPU time of the main thread: neither idle waits nor time lost to other processes count.
    profiler = cProfile.Profile(time.thread_time) if profile else None
    with patched_environ(env):
        cpu0, t0 = _cpu(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        result = run_study(study, log_dir=log_dir, display="none", eval_set_args=settings)
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    if not result.complete:
        raise SystemExit(f"the study did not complete: {result.problems}")
    return Outcome(
        cpu_s=cpu,
        wall_s=wall,
        samples=result.rows,
        records=read_records(result.records_path),
        profile=pstats.Stats(profiler) if profiler is not None else None,
    )


def record_differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Columns whose values differ between two records tables (row order aside)."""
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return [f"shape {a.shape} vs {b.shape}"]
    key = ["model", "condition", "scenario_id", "epoch", "judge"]
    a, b = (x.sort_values(key).reset_index(drop=True) for x in (a, b))
    return [c for c in a.columns if not a[c].equals(b[c])]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--scenarios", type=Path, default=DEFAULT_SCENARIOS)
    parser.add_argument("--limit", type=int, help="use only the first N scenarios")
    parser.add_argument("--latency", type=float, default=0.5, help="simulated seconds per call")
    parser.add_argument("--connections", type=int, default=10, help="max_connections per model")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)

    from deconfound.data.instrumentaleval import load_directory
    from deconfound.run.runner import run_defaults
    from deconfound.run.study import load_study
    from deconfound.testing import ResponseMix, SimConfig, SimServerProcess

    scenarios = load_directory(args.scenarios).scenarios[: args.limit]
    sizes = Sizes(
        scenarios=args.limit, epochs=args.epochs, seq_generations=0, connections=args.connections
    )
    config = SimConfig(
        latency=args.latency,
        scenario_ids={s.prompt: s.id for s in scenarios},
        condition_names={name: "\n\n".join(parts) for name, parts in CONDITIONS.items()},
        condition_mix={CONDITIONS["ethics"][1]: ResponseMix(refusal=0.45, partial=0.1, ic=0.3)},
    )
    n = len(scenarios) * len(CONDITIONS) * args.epochs
    out = Tee()
    out("# runner_cpu: where the study runner's CPU goes, per sample")
    out(
        f"# command: python benchmarks/runner_cpu.py --epochs {args.epochs} --latency"
        f" {args.latency}{f' --limit {args.limit}' if args.limit else ''}"
        f"{' --out ' + str(args.out) if args.out else ''}"
    )
    out(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}; load average"
        f" {_load()} at start (the machine is shared: CPU per sample is less sensitive to load"
        " than wall time)"
    )
    out(
        f"study: {len(scenarios)} scenarios x {len(CONDITIONS)} conditions x {args.epochs}"
        f" epoch(s) = {n} samples (a generation + a rubric judgment each), simulated latency"
        f" {args.latency * 1000:.0f} ms, max_connections={args.connections}"
    )

    outcomes: dict[tuple[str, bool], Outcome] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        study_file = work / "study.toml"
        write_study(study_file, args.scenarios, sizes, "rubric:openai-api/sim/judge")
        after = run_defaults(load_study(study_file), "none", {})
        settings = {"before": BEFORE, "after": after}
        out("settings: " + "; ".join(f"{k}: {v}" for k, v in settings.items()))
        for profile in (False, True):
            for name, chosen in settings.items():
                log_dir = work / f"logs-{name}-{'profiled' if profile else 'plain'}"
                # A fresh server per run: its answers depend on how often it saw an item.
                with SimServerProcess(config) as server:
                    outcomes[name, profile] = run_once(
                        study_file, log_dir, dict(chosen), profile, server.env()
                    )

    out()
    out("CPU per sample, unprofiled (getrusage over run_study; includes Inspect's worker threads)")
    for name in settings:
        o = outcomes[name, False]
        out(f"  {name:<6} {o.cpu_ms:6.1f} ms  ({o.cpu_s:.1f} s CPU, {o.wall_s:.1f} s wall)")
    out()
    out(
        "profiled items, CPU ms per sample (cProfile on the main thread's CPU clock, inclusive,"
        " items overlap; profiling inflates Python code 2-3x)"
    )
    out(f"  {'item':<66}{'before':>8}{'after':>8}")
    stats = {name: outcomes[name, True].profile for name in settings}
    total = [1000 * s.total_tt / n for s in stats.values() if s is not None]  # type: ignore[attr-defined]
    out(f"  {'everything profiled':<66}" + "".join(f"{x:8.1f}" for x in total))
    for label, match in ITEMS:
        row = [1000 * inclusive(s, match) / n for s in stats.values() if s is not None]
        out(f"  {label:<66}" + "".join(f"{x:8.1f}" for x in row))
    own = [1000 * own_code(s) / n for s in stats.values() if s is not None]
    out(f"  {'deconfound functions, self time only':<66}" + "".join(f"{x:8.1f}" for x in own))
    reference = outcomes["before", False].records
    differences = {
        f"{name} {'profiled' if profiled else 'plain'}": record_differences(reference, o.records)
        for (name, profiled), o in outcomes.items()
    }
    identical = not any(differences.values())
    out()
    out(
        f"records identical in all four runs: {identical}"
        + ("" if identical else f" (differing columns: {differences})")
        + f"; load average now {_load()}"
    )
    before, after_ms = outcomes["before", False].cpu_ms, outcomes["after", False].cpu_ms
    out(f"cpu_ms_per_sample_before={before:.1f} cpu_ms_per_sample_after={after_ms:.1f} samples={n}")
    if args.out:
        args.out.write_text("\n".join(out.lines) + "\n")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
