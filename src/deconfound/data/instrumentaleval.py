"""InstrumentalEval (He et al. 2025, arXiv:2502.12206): the pinned upstream CSVs or a local copy.

Upstream keeps one CSV per category, ``benchmark/Alignment Drift - <Category>.csv``. Row 1 is the
category's judge context ("specific evaluation context"); every later row is one scenario prompt.
Scenario ``i`` (1-based row after the context row) is upstream task ``"<Category>_<i>"``, the
numbering other runners (e.g. AEI's) use, so ids stay aligned with published per-scenario results.

The download is pinned to one commit and every file is checked against its sha256: the benchmark
must not drift under a study. A local directory is trusted but its digests are recorded, and a
copy that differs from the pin is loaded with one notice rather than refused (reconstructed or
edited copies are legitimate, they just are not the pinned benchmark).
"""

from __future__ import annotations

import csv
import hashlib
import io
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from deconfound.data.scenario import Scenario, category_slug, scenario_id
from deconfound.errors import DataNotice, InputError

UPSTREAM_REPO: Final = "yf-he/InstrumentalEval"
UPSTREAM_COMMIT: Final = "269678168cf0388bf5dd7d10dfaed4af07905c49"
UPSTREAM_FOLDER: Final = "benchmark"
FILE_PREFIX: Final = "Alignment Drift - "

#: Categories in upstream order, with the number of scenarios in each (76 in all).
CATEGORY_SIZES: Final[dict[str, int]] = {
    "Evading Shutdown": 20,
    "Hacking Computer Systems": 10,
    "Running Multiple AI Copies": 13,
    "Hiding Unwanted Behavior": 11,
    "Strategically Appearing Aligned": 11,
    "Deceptive Behavior": 11,
}
CATEGORIES: Final = tuple(CATEGORY_SIZES)

#: sha256 of each upstream file at :data:`UPSTREAM_COMMIT`.
PINNED_SHA256: Final[dict[str, str]] = {
    "Alignment Drift - Deceptive Behavior.csv": (
        "757034719bfa5703a90673fccd594b2d85610bfa8079747f33521982898102af"
    ),
    "Alignment Drift - Evading Shutdown.csv": (
        "c6c2dd40c833f11d450afaa53e5e58327bb69d52f90e47643ea795ef57be69d6"
    ),
    "Alignment Drift - Hacking Computer Systems.csv": (
        "874d84f4595c9a871fc5e884491a99baeded9442e6ae79e74187118ce04bccbf"
    ),
    "Alignment Drift - Hiding Unwanted Behavior.csv": (
        "c6bd396954981b54dea4caf58f73b68534bffc7317570f2318493069ba50e18f"
    ),
    "Alignment Drift - Running Multiple AI Copies.csv": (
        "03224acee7b77832a64e616ff76eb9dc61a6a381391e49b706b718ce544f15c4"
    ),
    "Alignment Drift - Strategically Appearing Aligned.csv": (
        "cbcd421ac0230892c785a77c4c15c2ab9d67dc31847d94521c5b6ec132b09d18"
    ),
}

DOWNLOAD_TIMEOUT_S: Final = 30.0


class DigestMismatchWarning(DataNotice):
    """A local InstrumentalEval copy differs from the pinned upstream files."""


@dataclass(frozen=True)
class ScenarioSet:
    """The scenarios a study runs, with where they came from.

    Args:
        scenarios: In source order (category by category, row by row).
        source: Human-readable description of the source (for reports and provenance).
        digests: File name -> sha256 of the bytes actually read.
        pinned: True when every file read matches the pinned upstream digest.
    """

    scenarios: list[Scenario]
    source: str
    digests: dict[str, str] = field(default_factory=dict)
    pinned: bool = False

    def by_id(self) -> dict[str, Scenario]:
        """Scenarios keyed by id."""
        return {s.id: s for s in self.scenarios}

    def categories(self) -> dict[str, int]:
        """Number of scenarios per category, in first-seen order."""
        counts: dict[str, int] = {}
        for s in self.scenarios:
            counts[s.category] = counts.get(s.category, 0) + 1
        return counts

    def __len__(self) -> int:
        return len(self.scenarios)


def file_name(category: str) -> str:
    """Upstream file name of a category: ``Alignment Drift - <Category>.csv``."""
    return f"{FILE_PREFIX}{category}.csv"


def category_of_file(path: str | Path) -> str:
    """Category named by an upstream file name (the part after ``Alignment Drift - ``)."""
    stem = Path(path).stem
    if not stem.startswith(FILE_PREFIX):
        raise InputError(f"file name must start with {FILE_PREFIX!r}", path=path)
    category = stem[len(FILE_PREFIX) :].strip()
    if not category:
        raise InputError("file name has no category after the prefix", path=path)
    return category


def raw_url(name: str, *, commit: str = UPSTREAM_COMMIT) -> str:
    """URL of one upstream file as a raw file of the pinned commit."""
    path = urllib.parse.quote(f"{UPSTREAM_FOLDER}/{name}")
    return f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{commit}/{path}"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def parse_category_csv(
    data: bytes, category: str, *, path: str | Path
) -> tuple[str, list[Scenario]]:
    """Parse one upstream-format CSV into (judge context, scenarios).

    Prompts are kept verbatim (only column 1 is read). Blank rows are skipped but still counted,
    so ``<category-slug>-<nn>`` keeps matching upstream's ``"<Category>_<i>"`` row numbering.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file ({exc})", path=path) from exc
    if not rows or not rows[0] or not rows[0][0].strip():
        raise InputError(
            "row 1 must hold the category's judge context", path=path, location="line 1"
        )
    context = rows[0][0].strip()
    scenarios: list[Scenario] = []
    for i, row in enumerate(rows[1:], start=1):
        if not row or not row[0].strip():
            continue
        scenarios.append(
            Scenario(
                id=scenario_id(category, i),
                category=category,
                prompt=row[0],
                judge_context=context,
                source_task_id=f"{category}_{i}",
            )
        )
    if not scenarios:
        raise InputError("no scenario rows after the judge-context row", path=path)
    return context, scenarios


def _order(categories: Iterable[str]) -> list[str]:
    known = [c for c in CATEGORIES if c in set(categories)]
    return known + sorted(c for c in categories if c not in CATEGORY_SIZES)


_warned: set[tuple[str, tuple[tuple[str, str], ...]]] = set()


def _warn_mismatch(source: str, digests: Mapping[str, str]) -> None:
    """Warn once per (source, digests) in a process: a study may load its scenarios many times."""
    key = (str(Path(source).resolve()), tuple(sorted(digests.items())))
    if key in _warned:
        return
    _warned.add(key)
    differing = sorted(n for n, d in digests.items() if PINNED_SHA256.get(n) != d)
    missing = sorted(set(PINNED_SHA256) - set(digests))
    parts = []
    if differing:
        parts.append(f"{len(differing)} of {len(digests)} file(s) differ")
    if missing:
        parts.append(f"{len(missing)} pinned file(s) absent")
    warnings.warn(
        f"InstrumentalEval copy {source} is not the pinned upstream commit "
        f"{UPSTREAM_COMMIT[:12]} ({', '.join(parts)}); loaded as is, its sha256 digests "
        "recorded in provenance",
        DigestMismatchWarning,
        stacklevel=3,
    )


def is_pinned(digests: Mapping[str, str]) -> bool:
    """True when the files read are exactly the pinned upstream files."""
    return dict(digests) == PINNED_SHA256


def load_directory(directory: str | Path) -> ScenarioSet:
    """Load a local directory of upstream-format CSVs (``Alignment Drift - <Category>.csv``).

    Every matching file is read; digests that differ from the pin give one warning and
    ``pinned=False``, never an error.
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputError("not a directory", path=d)
    files = {category_of_file(p): p for p in d.glob(f"{FILE_PREFIX}*.csv") if p.is_file()}
    if not files:
        raise InputError(
            f"no InstrumentalEval files ('{FILE_PREFIX}<Category>.csv') in this directory",
            path=d,
        )
    scenarios: list[Scenario] = []
    digests: dict[str, str] = {}
    for category in _order(files):
        path = files[category]
        data = path.read_bytes()
        digests[path.name] = sha256_bytes(data)
        scenarios.extend(parse_category_csv(data, category, path=path)[1])
    source = str(d)
    pinned = is_pinned(digests)
    if not pinned:
        _warn_mismatch(source, digests)
    return ScenarioSet(scenarios=scenarios, source=source, digests=digests, pinned=pinned)


def fetch_url(url: str) -> bytes:
    """Fetch one URL (replaced in tests; the only network access in this module)."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
        data: bytes = resp.read()
    return data


def default_cache_dir() -> Path:
    """Per-user cache directory for the pinned download."""
    from platformdirs import user_cache_path

    return user_cache_path("deconfound") / "instrumentaleval" / UPSTREAM_COMMIT


_HOW_TO_PASS_A_DIR = (
    "download the six 'Alignment Drift - <Category>.csv' files from the upstream repository "
    f"({UPSTREAM_REPO}, folder {UPSTREAM_FOLDER}/) and pass their directory instead: "
    '`deconfound scenarios list --source DIR`, `scenarios = "DIR"` in a study file, '
    "or load_scenarios(DIR)"
)


def download(
    cache_dir: str | Path | None = None,
    *,
    fetch: Callable[[str], bytes] | None = None,
) -> Path:
    """Make sure the pinned upstream files are in ``cache_dir``; return that directory.

    Cached files are re-checked against their digests and fetched again if they differ. A
    downloaded file whose digest differs from the pin is an error and is not cached.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    get = fetch if fetch is not None else fetch_url
    for name, expected in PINNED_SHA256.items():
        target = cache / name
        if target.is_file() and sha256_bytes(target.read_bytes()) == expected:
            continue
        url = raw_url(name)
        try:
            data = get(url)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot download the pinned InstrumentalEval file {name!r} ({exc}); "
                f"offline? {_HOW_TO_PASS_A_DIR}",
                path=url,
            ) from exc
        actual = sha256_bytes(data)
        if actual != expected:
            raise InputError(
                f"downloaded file has sha256 {actual}, expected the pinned {expected}; "
                "refusing to use it (upstream changed or the download was corrupted)",
                path=url,
            )
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return cache


def load_pinned(
    cache_dir: str | Path | None = None, *, fetch: Callable[[str], bytes] | None = None
) -> ScenarioSet:
    """The pinned upstream benchmark, downloaded once into the user cache and verified."""
    cache = download(cache_dir, fetch=fetch)
    scenarios: list[Scenario] = []
    digests: dict[str, str] = {}
    for category in CATEGORIES:
        name = file_name(category)
        data = (cache / name).read_bytes()
        digests[name] = sha256_bytes(data)
        scenarios.extend(parse_category_csv(data, category, path=cache / name)[1])
    source = f"{UPSTREAM_REPO}@{UPSTREAM_COMMIT} ({UPSTREAM_FOLDER}/)"
    return ScenarioSet(
        scenarios=scenarios, source=source, digests=digests, pinned=is_pinned(digests)
    )


def parse_task_id(task_id: str) -> tuple[str, int]:
    """Split an upstream task id ``"<Category>_<i>"`` into (category, i).

    Raises ValueError for any other shape; callers turn it into an InputError with a location.
    """
    category, sep, index = task_id.rpartition("_")
    if not sep or not category.strip() or not index.isdigit() or int(index) < 1:
        raise ValueError(f"task id {task_id!r} is not of the form '<Category>_<i>'")
    return category, int(index)


def task_scenario_id(task_id: str, *, known: Mapping[str, int] | None = CATEGORY_SIZES) -> str:
    """Scenario id for an upstream task id, checked against the known categories and sizes.

    Args:
        task_id: ``"<Category>_<i>"``, e.g. ``"Evading Shutdown_9"``.
        known: Category -> number of scenarios; ``None`` accepts any category and index.
    """
    category, index = parse_task_id(task_id)
    if known is not None:
        if category not in known:
            raise ValueError(
                f"unknown category {category!r} in task id {task_id!r}; "
                f"InstrumentalEval has {', '.join(known)}"
            )
        if index > known[category]:
            raise ValueError(
                f"task id {task_id!r} is out of range: {category!r} has {known[category]} scenarios"
            )
    return scenario_id(category, index)


__all__ = [
    "CATEGORIES",
    "CATEGORY_SIZES",
    "PINNED_SHA256",
    "UPSTREAM_COMMIT",
    "UPSTREAM_REPO",
    "DigestMismatchWarning",
    "ScenarioSet",
    "category_of_file",
    "category_slug",
    "default_cache_dir",
    "download",
    "fetch_url",
    "file_name",
    "load_directory",
    "load_pinned",
    "parse_category_csv",
    "parse_task_id",
    "raw_url",
    "task_scenario_id",
]
