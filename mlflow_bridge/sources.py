"""Reading ``file://`` model sources: the artifact's sha256, size and environment.

Only sources under the directories of ``MLFLOW_FILE_SOURCE_ROOTS`` are read:
otherwise anyone allowed to register a version could make the portal hash any
file it can read (a confirmation oracle for secrets) or walk a whole disk.

A file's digest is the sha256 of its bytes. A directory's digest is the sha256
of a manifest with one line per regular file, sorted by relative path (bytes of
its UTF-8, POSIX separators): ``<sha256 of the file>  <relative path>\\n`` — the
output of ``find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n'
sha256sum``, so ``… | sha256sum`` in the directory gives the same digest.
Symbolic links are refused; empty directories do not count.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings

from mlflow_bridge import errors

_CHUNK = 1024 * 1024
# Files MLflow writes next to a logged model that pin its environment, in the
# order they are preferred as the environment lock.
ENVIRONMENT_FILES = ("requirements.txt", "conda.yaml", "python_env.yaml")


@dataclass(frozen=True)
class SourceDigest:
    sha256: str
    size_bytes: int
    environment_lock_hash: str  # "" when no environment file is found


def local_path(source: str) -> Path | None:
    """The local path of a ``file://`` source, or None for other schemes."""
    parsed = urlparse(source)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


def _allowed_roots(extra_roots: tuple[str, ...]) -> list[Path]:
    roots = [*settings.MLFLOW_FILE_SOURCE_ROOTS, *extra_roots]
    return [Path(root).resolve() for root in roots if root]


def _file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _walk(directory: Path) -> list[tuple[str, Path]]:
    files = []
    for current, folders, names in os.walk(directory, followlinks=False):
        for name in [*names, *folders]:
            path = Path(current) / name
            if path.is_symlink():
                relative = path.relative_to(directory)
                raise errors.invalid(
                    f"The source holds a symbolic link ({relative}): Gatehouse "
                    "hashes regular files only."
                )
        for name in names:
            path = Path(current) / name
            files.append((path.relative_to(directory).as_posix(), path))
    return sorted(files, key=lambda item: item[0].encode("utf-8"))


def digest_source(source: str, *, extra_roots: tuple[str, ...] = ()) -> SourceDigest:
    """Hash a ``file://`` source under an allowed root; raise an MLflow error
    that says why when it cannot be read."""
    path = local_path(source)
    if path is None:
        raise errors.invalid(f"“{source}” is not a local file:// source.")
    roots = _allowed_roots(extra_roots)
    if not roots:
        raise errors.invalid(
            "This Gatehouse reads no local files (MLFLOW_FILE_SOURCE_ROOTS is empty)."
        )
    if path.is_symlink():
        raise errors.invalid(f"The source {source} is a symbolic link.")
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root) for root in roots):
        raise errors.invalid(
            f"The source {source} is outside the directories Gatehouse reads "
            "(MLFLOW_FILE_SOURCE_ROOTS)."
        )
    if resolved.is_file():
        sha256, size = _file_sha256(resolved)
        # A lone file says nothing about its environment.
        return SourceDigest(sha256, size, "")
    if not resolved.is_dir():
        raise errors.invalid(f"The source {source} does not exist.")
    manifest = hashlib.sha256()
    total = 0
    files = _walk(resolved)
    if not files:
        raise errors.invalid(f"The source directory {source} holds no files.")
    for relative, file_path in files:
        sha256, size = _file_sha256(file_path)
        manifest.update(f"{sha256}  {relative}\n".encode())
        total += size
    return SourceDigest(manifest.hexdigest(), total, _environment_lock(resolved))


def _environment_lock(directory: Path) -> str:
    for name in ENVIRONMENT_FILES:
        candidate = directory / name
        if candidate.is_file() and not candidate.is_symlink():
            return _file_sha256(candidate)[0]
    return ""
