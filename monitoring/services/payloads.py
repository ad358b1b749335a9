"""Writing and reading a batch's stored payload (megabytes of Arrow IPC).

On PostgreSQL the bytes travel as a binary parameter and a binary result:
Django's client-side binding would hex-encode them into the SQL text (twice the
size, parsed by the server) and read them back as hex, about four times slower
for a 16 MB batch. Both run on Django's connection, inside the caller's
transaction.
"""

from django.db import connection

from monitoring.models import MonitoringBatch

_TABLE = MonitoringBatch._meta.db_table


def _binary_cursor():
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def payload_write(batch_id: int, payload: bytes) -> None:
    if connection.vendor != "postgresql":
        MonitoringBatch.objects.filter(pk=batch_id).update(payload=payload)
        return
    with _binary_cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} SET payload = %b WHERE id = %s",  # noqa: S608
            [payload, batch_id],
        )


def payload_read(batch_id: int) -> bytes:
    if connection.vendor != "postgresql":
        return bytes(
            MonitoringBatch.objects.values_list("payload", flat=True).get(pk=batch_id)
        )
    with _binary_cursor() as cursor:
        cursor.execute(
            f"SELECT payload FROM {_TABLE} WHERE id = %s",  # noqa: S608
            [batch_id],
            binary=True,
        )
        return cursor.fetchone()[0]
