"""``gatehouse-profile``: profile a Parquet dataset and push the profiles.

    gatehouse-profile 's3-export/scores/date=2026-01-*/' \\
        --url https://gatehouse.example.com --model card-fraud \\
        --environment production --version 3 --batch-id card-fraud-2026-01

Reads a Parquet file, a directory (Hive partitions such as ``date=2026-01-31/``
are understood) or a glob of them, one record batch at a time (memory bounded
by a batch, whatever the dataset's size), profiles it on the version's feature
spec fetched from the portal, and pushes the window profiles. The token comes
from ``GATEHOUSE_TOKEN`` (or ``--token``), the portal from ``GATEHOUSE_URL``
(or ``--url``). ``--output FILE`` writes the profile document instead of
pushing it; ``--spec FILE`` profiles on a saved spec without asking the portal.

Exit status: 0 done, 1 the portal refused or could not be reached, 2 bad input
(arguments, files, columns).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from gatehouse_client.frames import check_columns, profile_batches, wanted_columns
from gatehouse_client.profile import ProfileInvalid, ProfileSpec, profiles_document
from gatehouse_client.profile.wire import encode_binary, encode_json
from gatehouse_client.push import Gatehouse, GatehouseError, content_batch_id

BAD_INPUT = 2
REFUSED = 1


class CliError(Exception):
    """A problem with the command's input, said in one sentence."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gatehouse-profile",
        description=(
            "Profile a Parquet dataset of predictions on a model version's "
            "feature spec and push the window profiles to Gatehouse."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="Parquet files, directories (Hive-partitioned, e.g. date=2026-01-31/) "
        "or globs",
    )
    parser.add_argument("--url", default=os.environ.get("GATEHOUSE_URL"))
    parser.add_argument(
        "--token",
        default=os.environ.get("GATEHOUSE_TOKEN"),
        help="API token (default: $GATEHOUSE_TOKEN)",
    )
    parser.add_argument("--model", required=True)
    parser.add_argument("--environment", required=True)
    parser.add_argument(
        "--version", type=int, help="version number (default: the live one)"
    )
    parser.add_argument(
        "--batch-id", help="idempotency key (default: derived from the profiles)"
    )
    parser.add_argument(
        "--timestamp-column", default="timestamp", help="default: timestamp"
    )
    parser.add_argument(
        "--spec", type=Path, help="a saved profile spec (JSON) instead of the portal's"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="write the profile document here instead of pushing it",
    )
    parser.add_argument(
        "--binary", action="store_true", help="with --output: the binary frame"
    )
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    return parser


def dataset_files(patterns: Sequence[str]) -> list[str]:
    """The Parquet files of the given paths, directories and globs, sorted."""
    files: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) or [pattern]
        for match in matches:
            path = Path(match)
            if path.is_dir():
                found = sorted(
                    str(item)
                    for item in path.rglob("*")
                    if item.is_file() and not item.name.startswith((".", "_"))
                )
                if not found:
                    raise CliError(f"{match}: a directory without data files.")
                files += found
            elif path.is_file():
                files.append(str(path))
            else:
                raise CliError(f"{match}: no such file, directory or match.")
    return list(dict.fromkeys(files))


def open_dataset(files: list[str]) -> ds.Dataset:
    try:
        return ds.dataset(files, format="parquet", partitioning="hive")
    except (pa.ArrowInvalid, OSError) as error:
        raise CliError(f"Not a Parquet dataset: {error}") from error


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch_rows < 1:
        parser.error("--batch-rows must be at least 1")
    portal = None
    if args.output is None or args.spec is None:
        if not args.url:
            parser.error("--url (or GATEHOUSE_URL) is required")
        if not args.token:
            parser.error("--token (or GATEHOUSE_TOKEN) is required")
        try:
            portal = Gatehouse(args.url, args.token)
        except ValueError as error:
            parser.error(str(error))
    try:
        spec = _spec(args, portal)
        files = dataset_files(args.paths)
        dataset = open_dataset(files)
        names = dataset.schema.names
        check_columns(spec, names, timestamp=args.timestamp_column)
        columns = wanted_columns(spec, names, timestamp=args.timestamp_column)
        # One batch read ahead (Arrow's default is 4 files x 16 batches): memory
        # stays at about two batches whatever the dataset's size.
        batches = dataset.to_batches(
            columns=columns,
            batch_size=args.batch_rows,
            fragment_readahead=1,
            batch_readahead=1,
        )
        windows = profile_batches(batches, spec, timestamp=args.timestamp_column)
    except CliError as error:
        return _fail(str(error), BAD_INPUT)
    except ProfileInvalid as error:
        return _fail(f"The data cannot be profiled: {error}", BAD_INPUT)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        return _fail(f"The Parquet data cannot be read: {error}", BAD_INPUT)
    except GatehouseError as error:
        return _fail(f"The profile spec could not be fetched: {error}", REFUSED)
    if not windows:
        return _fail("The dataset has no rows.", BAD_INPUT)
    rows = sum(window.rows for window in windows)
    if args.output is not None:
        document = profiles_document(windows, batch_id="", spec=spec)
        document["batch_id"] = args.batch_id or content_batch_id(document)
        body = encode_binary(document) if args.binary else encode_json(document)
        args.output.write_bytes(body)
        print(
            f"{rows} rows of {len(files)} files in {len(windows)} windows: "
            f"{len(body)} bytes written to {args.output}"
        )
        return 0
    try:
        results = portal.push_profiles(
            args.model,
            args.environment,
            spec.version,
            windows,
            batch_id=args.batch_id,
            spec=spec,
        )
    except GatehouseError as error:
        return _fail(f"The profiles were not accepted: {error}", REFUSED)
    for result in results:
        state = "already received (counted once)" if result.duplicate else "accepted"
        print(f"batch {result.batch_id}: {state}")
    print(f"{rows} rows of {len(files)} files in {len(windows)} windows pushed.")
    return 0


def _spec(args: argparse.Namespace, portal: Gatehouse | None) -> ProfileSpec:
    if args.spec is not None:
        try:
            data = json.loads(args.spec.read_text())
        except (OSError, ValueError) as error:
            raise CliError(f"{args.spec}: not a JSON profile spec ({error}).") from None
        return ProfileSpec.from_dict(data)
    assert portal is not None  # noqa: S101 - run() checked the arguments
    return portal.profile_spec(args.model, args.environment, args.version)


def _fail(message: str, status: int) -> int:
    print(f"gatehouse-profile: error: {message}", file=sys.stderr)
    return status


def main() -> None:  # pragma: no cover - the console script
    sys.exit(run())


if __name__ == "__main__":  # pragma: no cover
    main()
