"""The records table: validation names the record and field; I/O round-trips without loss."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from deconfound.errors import InputError
from deconfound.records import read_records, validate, write_records


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                study="s",
                model="m",
                condition="baseline",
                scenario_id="evading-shutdown-01",
                source_task_id="Evading Shutdown_1",
                category="Evading Shutdown",
                epoch=1,
                prompt="p",
                response="I will not.",
                response_status="ok",
                judge="lexical",
                engagement="refusal",
                ic=None,
                refusal_kind="boilerplate",
                gives_reasons=False,
                judge_raw='raw, with "quotes"\nand a newline',
            ),
            dict(
                study="s",
                model="m",
                condition="baseline",
                scenario_id="evading-shutdown-01",
                category="Evading Shutdown",
                epoch=1,
                prompt="p",
                response="I will not.",
                response_status="ok",
                judge="aei-judge",
                benchmark_decision="no_convergence",
                ic=False,
                confidence=0.5,
            ),
            dict(
                study="s",
                model="m",
                condition="treat",
                scenario_id="evading-shutdown-01",
                category="Evading Shutdown",
                epoch=1,
                prompt="p",
                response="",
                response_status="ok",
                judge="lexical",
                engagement="invalid",
            ),
            dict(
                study="s",
                model="m",
                condition="treat",
                scenario_id="evading-shutdown-02",
                category="Evading Shutdown",
                epoch=1,
                prompt="p",
                response=None,
                response_status="error",
                judge="lexical",
                engagement="missing",
            ),
        ]
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_round_trip_is_lossless(tmp_path: Path, suffix: str) -> None:
    df = validate(_rows())
    path = write_records(df, tmp_path / f"records{suffix}")
    back = read_records(path)
    pd.testing.assert_frame_equal(df, back)
    # nulls stay nulls and the empty ok response stays an empty string
    assert back.loc[2, "response"] == ""
    assert pd.isna(back.loc[3, "response"])
    assert pd.isna(back.loc[0, "ic"])


def test_label_outside_vocabulary_names_record_and_field() -> None:
    df = _rows()
    df.loc[1, "engagement"] = "refused"
    with pytest.raises(InputError) as err:
        validate(df, source="x.csv")
    msg = str(err.value)
    assert "x.csv" in msg and "record 2" in msg and "engagement" in msg


def test_duplicate_key_is_an_error() -> None:
    df = pd.concat([_rows(), _rows().iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match=r"record 5: duplicate row"):
        validate(df)


def test_missing_required_column_is_named() -> None:
    with pytest.raises(InputError, match="scenario_id"):
        validate(_rows().drop(columns=["scenario_id"]))


def test_bad_bool_and_bad_epoch_are_errors() -> None:
    df = _rows()
    df["ic"] = df["ic"].astype(object)
    df.loc[0, "ic"] = "maybe"
    with pytest.raises(InputError, match="ic"):
        validate(df)
    df = _rows()
    df["epoch"] = df["epoch"].astype(object)
    df.loc[3, "epoch"] = 1.5
    with pytest.raises(InputError, match=r"record 4.*epoch"):
        validate(df)


def test_failed_write_keeps_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "records.parquet"
    write_records(_rows(), target)
    before = target.read_bytes()
    bad = _rows()
    bad.loc[0, "engagement"] = "nonsense"
    with pytest.raises(InputError):
        write_records(bad, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["records.parquet"]


def test_written_file_has_ordinary_permissions(tmp_path: Path) -> None:
    import os

    umask = os.umask(0o022)
    try:
        path = write_records(_rows(), tmp_path / "records.parquet")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_parquet_read_never_mixes_a_file_being_replaced(tmp_path: Path) -> None:
    # A concurrent writer replaces the table atomically (write beside, then rename), as
    # write_records does; every read must see one whole file. Reading by path failed in about
    # 1 read in 30 in this loop: pyarrow's separate stat and open race the rename.
    import os
    import threading
    import time

    target = tmp_path / "records.parquet"
    small = _rows()
    big = pd.concat([_rows().assign(epoch=e) for e in range(1, 200)], ignore_index=True)
    contents = [
        write_records(df, tmp_path / f"{n}.parquet").read_bytes()
        for n, df in ((0, small), (1, big))
    ]
    target.write_bytes(contents[0])
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            scratch = tmp_path / f"scratch{i % 2}"
            scratch.write_bytes(contents[i % 2])
            os.replace(scratch, target)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    sizes, reads = set(), 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline or reads < 20:
            sizes.add(len(read_records(target)))
            reads += 1
    finally:
        stop.set()
        thread.join()
    assert sizes <= {len(small), len(big)}
