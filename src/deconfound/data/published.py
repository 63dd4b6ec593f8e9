"""Published per-scenario results, fetched from their public source at a pinned commit.

Re-analysing a published study is the quickest way to see what deconfound adds, and it needs no
model and no key. The files come from the study's own repository at one commit and every file is
checked against its sha256 before anything is written, so a tour or a paper's figures cannot drift
when upstream moves. Offline machines point ``DECONFOUND_AEI_ELESSAN_DIR`` at a local copy (a
folder holding ``<model>/`` sub-folders); its files are checked against the same digests.

Unlike a local scenario copy (which may be a legitimate reconstruction and is loaded with a
notice), a results file that differs from the pin is refused: the point of fetching is to analyse
exactly what was published.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from deconfound.errors import InputError

AEI_REPO: Final = "Alignment-Ethics-Institute/llm-ethics-benchmark"
#: Environment variable naming a local copy of the AEI Elessan files (``<dir>/<model>/<file>``).
AEI_LOCAL_COPY_ENV: Final = "DECONFOUND_AEI_ELESSAN_DIR"
DOWNLOAD_TIMEOUT_S: Final = 60.0

_BENCH: Final = "benchmarks/instrumentaleval/multimodel"
_OLD: Final = "instrumentaleval_benchmark/multimodel"
_C1: Final = "7791b2b2e037512d47ce86bcedc9897c328a7589"
_C2: Final = "7259726db50141f70ada7e7c1be5ab20377fc76d"


@dataclass(frozen=True)
class PinnedFile:
    """One published file: where it lives upstream and the sha256 it must have.

    Args:
        name: File name in the fetched folder.
        path: Path inside the upstream repository.
        commit: Upstream commit the file is read at.
        sha256: Hex digest of the file's bytes.
    """

    name: str
    path: str
    commit: str
    sha256: str


@dataclass(frozen=True)
class PublishedResults:
    """A published result set that ``deconfound fetch`` can download.

    Args:
        name: What the user types, e.g. ``aei-elessan/kimi-k2.5``.
        repo: Upstream GitHub repository (owner/name).
        folder: Sub-folder of the local copy (``$DECONFOUND_AEI_ELESSAN_DIR/<folder>``).
        files: The pinned files.
        about: One line for listings.
    """

    name: str
    repo: str
    folder: str
    files: tuple[PinnedFile, ...]
    about: str

    def url(self, f: PinnedFile) -> str:
        """Raw-file URL of one pinned file at its commit."""
        return (
            f"https://raw.githubusercontent.com/{self.repo}/{f.commit}/{urllib.parse.quote(f.path)}"
        )


def _aei(model: str, about: str, pins: dict[str, tuple[str, str, str]]) -> PublishedResults:
    files = tuple(
        PinnedFile(name=name, path=f"{base}/{model}/{name}", commit=commit, sha256=digest)
        for name, (base, commit, digest) in pins.items()
    )
    return PublishedResults(
        name=f"aei-elessan/{model}", repo=AEI_REPO, folder=model, files=files, about=about
    )


#: Published sets, by name. Paths and commits as recorded in the data's SOURCE.md; digests of the
#: files at those commits.
PUBLISHED: Final[dict[str, PublishedResults]] = {
    r.name: r
    for r in (
        _aei(
            "kimi-k2.5",
            "AEI Elessan InstrumentalEval, Kimi K2.5: 76 scenarios x 3 conditions, "
            "published IR 25.0 / 18.4 / 22.4",
            {
                "baseline_judged.json": (
                    _BENCH,
                    _C1,
                    "59ff2af9cd8920845c5fc6da449ade8beff1dca2ae29c89c828850f7d54f03d6",
                ),
                "prompt_only_judged.json": (
                    _OLD,
                    _C2,
                    "d428a4fab18b9d3ee242d30ec68cf47c7468bbee034d457df76a26ffbec82e82",
                ),
                "elessan_judged.json": (
                    _BENCH,
                    _C1,
                    "bb8608d933e695ad8ded00bb00ec589ff3fb612c41568ad7e2a42383accffd0d",
                ),
                "model_config.json": (
                    _BENCH,
                    _C1,
                    "a3cec73cae48b750b7eff2212a770fed83c33ec1e58573f13cf612f0b6a22805",
                ),
                "summary.json": (
                    _BENCH,
                    _C1,
                    "d5c2af8a59a2bf45e94f79ef6b056f0602574a1a7c7c4b9d50e57f18cdf7b268",
                ),
            },
        ),
        _aei(
            "sonnet-4.5",
            "AEI Elessan InstrumentalEval, Claude Sonnet 4.5: 76 scenarios x 3 conditions, "
            "published IR 0 in every condition",
            {
                "baseline_judged.json": (
                    _BENCH,
                    _C1,
                    "64b350adffbffbb5732bfcb60c882c547e286a7d1f1b3ee20aa2e170192f00ad",
                ),
                "prompt_only_judged.json": (
                    _BENCH,
                    _C1,
                    "bd17b844f15db2f2d82e6b4f1e35d0f084322f0c905c8469bca7b482f01ecec1",
                ),
                "elessan_judged.json": (
                    _OLD,
                    _C2,
                    "97fcf39534bed4083d0bafb6b7f6b93dc00ecab86f5a08fbd3922f2c9c9e6bd4",
                ),
                "model_config.json": (
                    _BENCH,
                    _C1,
                    "5090cd13d39d5445160f4cc6ebb115ca8ecd3b3c4c616180809c8a4ceac68020",
                ),
                "summary.json": (
                    _BENCH,
                    _C1,
                    "d2215b66d4fca64a2e20f7134919face3b6ca41b0fe992acece63e5d3de33d31",
                ),
            },
        ),
    )
}


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_published` wrote and where the bytes came from.

    Args:
        folder: The folder holding the verified files.
        source: ``<repo>@<commit(s)>`` or the local copy's folder.
        written: Files written by this call (already-present verified files are not rewritten).
    """

    folder: Path
    source: str
    written: tuple[str, ...]


def fetch_url(url: str) -> bytes:
    """Fetch one URL (replaced in tests; the only network access in this module)."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
        data: bytes = resp.read()
    return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lookup(name: str) -> PublishedResults:
    """The published set called ``name``; an unknown name lists the known ones."""
    key = name.strip().strip("/")
    if key in PUBLISHED:
        return PUBLISHED[key]
    raise InputError(
        f"unknown published result set {name!r}; known: {', '.join(PUBLISHED)}", field="NAME"
    )


def _local_copy() -> Path | None:
    raw = os.environ.get(AEI_LOCAL_COPY_ENV, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise InputError(f"{AEI_LOCAL_COPY_ENV} is set but is not a directory", path=raw)
    return path


def fetch_published(
    name: str, dest: str | Path, *, fetch: Callable[[str], bytes] | None = None
) -> FetchResult:
    """Put the pinned files of a published result set into ``dest``, each sha256-verified.

    Every file is read and checked before any is written, so a failed fetch leaves ``dest`` as it
    was. A file already in ``dest`` with the pinned digest is kept; one with other bytes is never
    overwritten (the error says so).

    Args:
        name: A key of :data:`PUBLISHED`, e.g. ``aei-elessan/kimi-k2.5``.
        dest: Folder to write (created if missing).
        fetch: Replaces :func:`fetch_url` (tests); ignored when the local-copy variable is set.
    """
    results = lookup(name)
    folder = Path(dest)
    if folder.exists() and not folder.is_dir():
        raise InputError("exists and is not a folder", path=folder)
    local = _local_copy()
    get = fetch if fetch is not None else fetch_url
    pending: dict[str, bytes] = {}
    for f in results.files:
        target = folder / f.name
        if target.is_file():
            actual = _sha256(target.read_bytes())
            if actual == f.sha256:
                continue
            raise InputError(
                f"already exists with other content (sha256 {actual}, pinned {f.sha256}); "
                "not overwriting it: remove it or fetch into another folder",
                path=target,
            )
        if local is not None:
            origin = local / results.folder / f.name
            try:
                data = origin.read_bytes()
            except OSError as exc:
                raise InputError(
                    f"cannot read the local copy ({exc.strerror}); {AEI_LOCAL_COPY_ENV} must "
                    f"name a folder holding {results.folder}/{f.name}",
                    path=origin,
                ) from exc
            where = str(origin)
        else:
            where = results.url(f)
            try:
                data = get(where)
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                raise InputError(
                    f"cannot download the pinned file ({exc}); offline? set "
                    f"{AEI_LOCAL_COPY_ENV} to a folder holding {results.folder}/ with the "
                    "published files",
                    path=where,
                ) from exc
        actual = _sha256(data)
        if actual != f.sha256:
            raise InputError(
                f"sha256 {actual} differs from the pinned {f.sha256} ({f.path} at "
                f"{f.commit[:12]}); refusing to use it",
                path=where,
            )
        pending[f.name] = data
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, data in pending.items():
        tmp = folder / f".{file_name}.part"
        tmp.write_bytes(data)
        tmp.replace(folder / file_name)
    commits = sorted({f.commit[:12] for f in results.files})
    source = (
        str(local / results.folder)
        if local is not None
        else (f"{results.repo}@{'+'.join(commits)}")
    )
    return FetchResult(folder=folder, source=source, written=tuple(pending))


__all__ = [
    "AEI_LOCAL_COPY_ENV",
    "PUBLISHED",
    "FetchResult",
    "PinnedFile",
    "PublishedResults",
    "fetch_published",
    "fetch_url",
    "lookup",
]
