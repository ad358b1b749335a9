"""Serialising audit rows for download: CSV for people, JSON lines for verifiers.

Rows are ``audit.selectors.EXPORT_COLUMNS`` tuples. The functions return
iterators of text chunks for ``StreamingHttpResponse``, so memory stays flat
whatever the number of rows.
"""

import csv
import json
from collections.abc import Iterable, Iterator

from audit.canonical import format_timestamp
from audit.selectors import EXPORT_COLUMNS
from kernel.spreadsheets import csv_cell


class _Echo:
    """A file-like object whose write returns the line instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _timestamp_index() -> int:
    return EXPORT_COLUMNS.index("timestamp")


def csv_chunks(rows: Iterable[tuple]) -> Iterator[str]:
    """The header line, then one CSV line per row (timestamps in UTC, ``Z``).

    Cells a spreadsheet would run as formulas get a leading apostrophe
    (``csv_cell``): actor names, target texts and payloads come from users, a
    failed login's username included. Every column is text, a number or None.
    """
    writer = csv.writer(_Echo())
    timestamp_at = _timestamp_index()
    yield writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        cells = list(row)
        cells[timestamp_at] = format_timestamp(cells[timestamp_at])
        yield writer.writerow([csv_cell(cell) for cell in cells])


def jsonl_event_chunks(rows: Iterable[tuple]) -> Iterator[str]:
    """One JSON object per line with the columns an outside verifier needs.

    ``payload_json`` stays the exact text that was hashed; ``timestamp`` is in
    the canonical UTC format of the hash (docs/audit-hash.md).
    """
    timestamp_at = _timestamp_index()
    for row in rows:
        cells = list(row)
        cells[timestamp_at] = format_timestamp(cells[timestamp_at])
        record = dict(zip(EXPORT_COLUMNS, cells, strict=True))
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def checkpoint_json_chunks(rows: Iterable[dict], head: int) -> Iterator[str]:
    """The checkpoints file the verifier reads (``gatehouse-audit-checkpoints/1``):
    the chain's head at export time, then one checkpoint object per line."""
    yield (
        '{"format":"gatehouse-audit-checkpoints/1",'
        f'"head_sequence_at_export":{head},"checkpoints":['
    )
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, separators=(",", ":"))
    yield "\n]}\n"
