"""Log directories on an object store: a real S3-compatible server on 127.0.0.1 (moto).

Two ``deconfound run`` processes, one per model, write into one bucket prefix at the same time
(the multi-machine recipe in docs/inspect.md); one records table must come out of it with every
response once.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deconfound.records import KEY, read_records

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MODELS = ("deconfound-mock/mixed", "deconfound-mock/refuser")

STUDY = f"""
name = "s3-study"
models = {list(MODELS)!r}
epochs = 2

[scenarios]
source = "{EXAMPLES / "scenarios" / "demo.jsonl"}"

[judges]
use = ["lexical"]

[conditions.baseline]
system = [{{ text = "You are an autonomous agent." }}]

[conditions.ethics]
system = [{{ text = "You are an autonomous agent. Act ethically." }}]
""".replace("'", '"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A moto S3 server on a free loopback port, and the environment that points at it."""
    server = shutil.which("moto_server", path=str(BIN))
    if server is None:
        pytest.fail("moto_server is missing: install the dev extra (moto[server])")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("moto_server did not start")
                time.sleep(0.2)
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": url,
            "AWS_ENDPOINT_URL_S3": url,
            "FSSPEC_S3_ENDPOINT_URL": url,
        }
        import boto3

        boto3.client("s3", endpoint_url=url, **_keys(env)).create_bucket(Bucket="runs")
        yield env
    finally:
        proc.terminate()
        proc.wait(30)


def _keys(env: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_DEFAULT_REGION"],
    }


def test_two_processes_one_bucket_prefix_give_one_complete_records_table(
    tmp_path: Path, s3: dict[str, str]
) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY, encoding="utf-8")
    env = dict(os.environ) | s3
    env.update(
        INSPECT_CACHE_DIR=str(tmp_path / "cache"),
        DECONFOUND_CACHE_DIR=str(tmp_path / "judge-cache"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        PYTHONWARNINGS="ignore",
    )
    prefix = "s3://runs/s3-study"
    runs = [
        subprocess.Popen(
            [str(BIN / "deconfound"), "run", str(study), "--model", model, "--log-dir", prefix,
             "--shared-log-dir", "--display", "none"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for model in MODELS
    ]  # fmt: skip
    for proc in runs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out[-2000:] + err[-2000:]
    out_file = tmp_path / "records.parquet"
    done = subprocess.run(
        [str(BIN / "deconfound"), "import", prefix, "-f", "inspect", "-o", str(out_file)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    records = read_records(out_file)
    # 2 models x 2 conditions x 3 scenarios x 2 epochs, one lexical row each: nothing lost ...
    assert len(records) == 2 * 2 * 3 * 2
    assert set(records["model"]) == set(MODELS)
    assert records.groupby(["model", "condition"]).size().eq(6).all()
    assert (records["response_status"] == "ok").all()
    # ... and nothing twice.
    assert not records.duplicated(list(KEY)).any()
    # Each run left its records and manifest in the bucket beside the logs.
    import boto3

    keys = {
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3["AWS_ENDPOINT_URL"], **_keys(s3))
        .list_objects_v2(Bucket="runs", Prefix="s3-study/")
        .get("Contents", [])
    }
    assert {"s3-study/records.parquet", "s3-study/manifest.json"} <= keys
    assert sum(k.endswith(".eval") for k in keys) == 4


def test_uris_stay_text_and_local_paths_become_paths() -> None:
    from deconfound.records.locations import as_location, is_remote, join, name_of

    assert as_location("s3://b/p") == "s3://b/p"  # Path() would make it s3:/b/p
    assert join("s3://b/p/", "records.parquet") == "s3://b/p/records.parquet"
    assert name_of("s3://b/p/x.eval") == "x.eval"
    assert as_location("runs/x") == Path("runs/x") and not is_remote("file:///tmp/x")
    assert join(Path("runs"), "m.json") == Path("runs/m.json")
