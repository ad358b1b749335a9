"""gatehouse-profile: a Parquet dataset (a path, a directory partitioned by date,
or a glob) profiled on a saved spec, and clear errors for bad input."""

import json

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from gatehouse_client.cli import BAD_INPUT, run
from gatehouse_client.frames import profile_pandas
from gatehouse_client.profile import (
    ProfileSpec,
    decode_binary,
    read_windows,
)

from tests.client.conftest import START, assert_same_windows, make_predictions


@pytest.fixture
def dataset(tmp_path):
    """Two days of predictions in Parquet, partitioned by date (Hive style)."""
    predictions = make_predictions(800, hours=30, start=START)
    table = pa.Table.from_pandas(
        predictions.assign(date=predictions.timestamp.dt.strftime("%Y-%m-%d")),
        preserve_index=False,
    )
    root = tmp_path / "scores"
    ds.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("date", pa.string())]), flavor="hive"),
        max_rows_per_group=128,
    )
    return root, predictions


@pytest.fixture
def spec_file(tmp_path, spec):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec.to_dict()))
    return path


def cli(*args):
    return run(["--model", "credit-scoring", "--environment", "production", *args])


def test_a_partitioned_dataset_and_a_glob_give_the_pandas_profiles(
    tmp_path, dataset, spec_file, spec, capsys
):
    root, predictions = dataset
    assert len(list(root.iterdir())) == 2  # date=2026-01-31 and date=2026-02-01
    expected = profile_pandas(predictions, spec)
    spec = ProfileSpec.from_dict(json.loads(spec_file.read_text()))
    for index, source in enumerate([str(root), str(root / "date=*")]):
        out = tmp_path / f"profiles-{index}.bin"
        status = cli("--spec", str(spec_file), "--output", str(out), "--binary", source)
        assert status == 0
        document = json.loads(decode_binary(out.read_bytes(), max_bytes=10**8))
        assert document["batch_id"].startswith("profiles-")
        assert_same_windows(expected, read_windows(document, spec))
    assert "800 rows of 2 files in 30 windows" in capsys.readouterr().out


def test_the_same_data_gets_the_same_batch_id(tmp_path, dataset, spec_file):
    root, _ = dataset
    ids = []
    for name in ("a.json", "b.json"):
        assert (
            cli("--spec", str(spec_file), "--output", str(tmp_path / name), str(root))
            == 0
        )
        ids.append(json.loads((tmp_path / name).read_text())["batch_id"])
    assert ids[0] == ids[1]
    out = tmp_path / "c.json"
    assert (
        cli(
            "--spec",
            str(spec_file),
            "--output",
            str(out),
            "--batch-id",
            "jan",
            str(root),
        )
        == 0
    )
    assert json.loads(out.read_text())["batch_id"] == "jan"


def test_bad_input_is_said_clearly(tmp_path, dataset, spec_file, capsys):
    root, predictions = dataset
    out = str(tmp_path / "out.json")
    assert (
        cli("--spec", str(spec_file), "--output", out, str(tmp_path / "nope"))
        == BAD_INPUT
    )
    assert "no such file, directory or match" in capsys.readouterr().err

    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    assert cli("--spec", str(spec_file), "--output", out, str(junk)) == BAD_INPUT
    assert "Parquet" in capsys.readouterr().err

    partial = tmp_path / "partial.parquet"
    pq.write_table(pa.Table.from_pandas(predictions.drop(columns=["age"])), partial)
    assert cli("--spec", str(spec_file), "--output", out, str(partial)) == BAD_INPUT
    err = capsys.readouterr().err
    assert "age" in err
    assert "feature spec" in err

    bad_spec = tmp_path / "bad-spec.json"
    bad_spec.write_text("{}")
    assert cli("--spec", str(bad_spec), "--output", out, str(root)) == BAD_INPUT
    assert "profile spec" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exited:
        cli(str(root))  # neither a portal nor a saved spec
    assert exited.value.code == BAD_INPUT
    assert "--url" in capsys.readouterr().err
