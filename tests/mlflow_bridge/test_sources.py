"""Hashing file:// sources, only under the allowed roots."""

import hashlib
import os

import pytest

from mlflow_bridge.errors import MlflowError
from mlflow_bridge.sources import digest_source


def test_a_file_is_its_bytes_sha256(settings, tmp_path):
    settings.MLFLOW_FILE_SOURCE_ROOTS = [str(tmp_path)]
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx" * 10)
    digest = digest_source(f"file://{model}")
    assert (digest.sha256, digest.size_bytes, digest.environment_lock_hash) == (
        hashlib.sha256(b"onnx" * 10).hexdigest(),
        40,
        "",
    )


def test_a_directory_is_the_sha256_of_its_sorted_manifest(settings, tmp_path):
    settings.MLFLOW_FILE_SOURCE_ROOTS = [str(tmp_path)]
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.bin").write_bytes(b"z")
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "conda.yaml").write_bytes(b"name: env")
    (tmp_path / "empty").mkdir()
    manifest = "".join(
        f"{hashlib.sha256(content).hexdigest()}  {name}\n"
        for name, content in (
            ("a.txt", b"a"),
            ("b/z.bin", b"z"),
            ("conda.yaml", b"name: env"),
        )
    )
    digest = digest_source(f"file://{tmp_path}")
    assert digest.sha256 == hashlib.sha256(manifest.encode()).hexdigest()
    assert digest.size_bytes == 11
    assert digest.environment_lock_hash == hashlib.sha256(b"name: env").hexdigest()


@pytest.mark.parametrize(
    ("roots", "make", "fragment"),
    [
        ([], lambda base: base / "inside", "reads no local files"),
        (["elsewhere"], lambda base: base / "inside", "outside the directories"),
        (["."], lambda base: base / "missing", "does not exist"),
        (["."], lambda base: base / "inside" / "link", "symbolic link"),
        (["."], lambda base: base / "hollow", "holds no files"),
    ],
)
def test_refuses_what_it_may_not_or_cannot_read(
    settings, tmp_path, roots, make, fragment
):
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "model.pkl").write_bytes(b"m")
    os.symlink("/etc/hostname", tmp_path / "inside" / "link")
    (tmp_path / "hollow" / "sub").mkdir(parents=True)
    settings.MLFLOW_FILE_SOURCE_ROOTS = [
        str(tmp_path / root) if root != "." else str(tmp_path) for root in roots
    ]
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(MlflowError) as caught:
        digest_source(f"file://{make(tmp_path)}")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert fragment in caught.value.message


def test_a_symbolic_link_inside_a_directory_is_refused(settings, tmp_path):
    settings.MLFLOW_FILE_SOURCE_ROOTS = [str(tmp_path)]
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights").write_bytes(b"w")
    os.symlink("/etc/hostname", tmp_path / "model" / "secret")
    with pytest.raises(MlflowError) as caught:
        digest_source(f"file://{tmp_path / 'model'}")
    assert "symbolic link (secret)" in caught.value.message
