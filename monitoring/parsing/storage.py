"""A normalised table as stored in a batch row: a zstd-compressed Arrow IPC
stream."""

import pyarrow as pa
import pyarrow.ipc as ipc

_IPC_OPTIONS = ipc.IpcWriteOptions(compression="zstd")


def table_to_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def table_from_bytes(payload: bytes | memoryview) -> pa.Table:
    with ipc.open_stream(pa.py_buffer(payload)) as reader:
        return reader.read_all()
