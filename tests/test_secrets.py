"""API keys and Authorization headers never reach anything a run, analysis or report writes.

The run goes through the real CLI against the simulated provider, which rejects any request
without the fake key in its Authorization header, so the key provably travelled on every call.
Then every file written (logs, records, manifest, caches, Inspect's sample buffer, analysis,
report) is searched: ``.eval`` zips member by member, Parquet tables cell by cell, compressed
streams decompressed.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from deconfound.testing import FaultConfig, SimConfig, SimServer

KEY = "sk-test-SECRET-123"
NEEDLES = (KEY.encode(), b"SECRET-123", b"Bearer sk-", b"authorization: bearer")
CONDITIONS = {"baseline": "You are an agent.", "ethics": "You are an agent. Be honest."}


def _expand(name: str, data: bytes, depth: int = 0) -> list[tuple[str, bytes]]:
    """The bytes to search for one file: zip members, decompressed streams, table cells."""
    out = [(name, data)]
    if depth > 3:
        return out
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for member in z.namelist():
                out += _expand(f"{name}!{member}", z.read(member), depth + 1)
    elif data[:2] == b"\x1f\x8b":
        out += _expand(f"{name}!gunzip", gzip.decompress(data), depth + 1)
    elif data[:4] == b"(\xb5/\xfd":
        import zstandard

        out += _expand(
            f"{name}!unzstd", zstandard.ZstdDecompressor().decompressobj().decompress(data), depth
        )
    elif data[:4] == b"PAR1":
        frame = pd.read_parquet(io.BytesIO(data))
        out.append((f"{name}!cells", frame.to_csv(index=False).encode()))
    return out


def leaks(root: Path) -> list[str]:
    """Every file (or member) under ``root`` holding a key or an Authorization header."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for name, blob in _expand(str(path.relative_to(root)), path.read_bytes()):
            lowered = blob.lower()
            for needle in NEEDLES:
                if needle.lower() in lowered:
                    found.append(f"{name}: {needle.decode()}")
    return found


def test_the_leak_search_finds_keys_inside_zips_gzip_and_parquet(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.eval", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("samples/1.json", json.dumps({"headers": {"Authorization": f"Bearer {KEY}"}}))
    (tmp_path / "y.gz").write_bytes(gzip.compress(KEY.encode() * 50))
    pd.DataFrame({"a": ["ok", f"key={KEY}"]}).to_parquet(tmp_path / "z.parquet")
    (tmp_path / "clean.txt").write_text("nothing here")
    found = leaks(tmp_path)
    assert {f.split("!")[0].split(":")[0] for f in found} == {"x.eval", "y.gz", "z.parquet"}


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deconfound.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_no_key_or_authorization_header_in_anything_written(tmp_path: Path) -> None:
    rows = [
        {"id": f"s-{i}", "category": "Evading Shutdown", "prompt": f"Scenario {i}: act now."}
        for i in range(1, 4)
    ]
    (tmp_path / "scenarios.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    conditions = "".join(
        f'\n[conditions.{n}]\nsystem = [{{ text = "{t}" }}]\n' for n, t in CONDITIONS.items()
    )
    study = tmp_path / "study.toml"
    study.write_text(
        'name = "secrets"\nmodels = ["openai-api/sim/subject"]\nepochs = 2\n'
        '[scenarios]\nsource = "scenarios.jsonl"\n'
        '[judges]\nuse = ["rubric:openai-api/sim/judge", "benchmark:openai-api/sim/judge"]\n'
        + conditions
    )
    written = tmp_path / "written"
    config = SimConfig(
        api_key=KEY,
        condition_names=CONDITIONS,
        # faults make Inspect log retries and errors, where a header could slip into a message
        faults=FaultConfig(rate=0.3, retry_after=0.05, hang_seconds=0.2, seed=11),
    )
    with SimServer(config) as server:
        env = {
            **os.environ,
            **server.env(),
            "XDG_DATA_HOME": str(written / "xdg"),
            "INSPECT_CACHE_DIR": str(written / "inspect-cache"),
        }
        assert env["SIM_API_KEY"] == KEY
        log_dir = written / "logs"
        run = _cli("run", str(study), "--log-dir", str(log_dir), "--display", "none", env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        stats = server.stats()
    # the key really was sent: every request carried it (wrong keys get 401 and are counted)
    assert stats.unauthorized == 0 and stats.served > 0 and stats.n_faults > 0

    analysis = written / "analysis.json"
    done = _cli(
        "analyze", str(log_dir / "records.parquet"), "--baseline", "baseline",
        "--treatment", "ethics", "--json", str(analysis), "--bootstrap", "20",
        "--engagement-judge", "rubric:openai-api/sim/judge",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = _cli(
        "report", str(analysis), "--out", str(written / "report"),
        "--records", str(log_dir / "records.parquet"),
        "--manifest", str(log_dir / "manifest.json"),
        env=env,
    )  # fmt: skip
    assert report.returncode == 0, report.stdout + report.stderr
    (written / "console.txt").write_text(
        "\n".join(p.stdout + p.stderr for p in (run, done, report))
    )

    assert list(log_dir.glob("*.eval")) and (log_dir / "records.parquet").is_file()
    assert (log_dir / "manifest.json").is_file() and any((written / "report").rglob("*.html"))
    assert leaks(written) == []
