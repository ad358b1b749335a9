"""A PostgreSQL function that appends one event to the chain in one round trip.

It takes the chain lock, reads the head, finishes the canonical text with the
sequence and the timestamp (both decided under the lock), hashes it, inserts
the row and returns what it decided. The lock is held until the caller's
transaction ends, so the time it is held is one statement plus the commit:
that time bounds the whole portal's write rate.

Each statement of a VOLATILE PL/pgSQL function takes a fresh snapshot under READ
COMMITTED, so the head is read after the lock is granted. The primary key on
``sequence`` refuses a fork even if someone called it under REPEATABLE READ.
``audit/canonical.py`` and ``audit_chain_verify`` recompute every hash in Python.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION audit_append(
    p_lock_key bigint,
    p_actor_id bigint,
    p_actor_text varchar,
    p_actor_ip varchar,
    p_request_id varchar,
    p_action varchar,
    p_target_type varchar,
    p_target_id varchar,
    p_target_text varchar,
    p_scope varchar,
    p_payload_json text,
    p_canonical_head text,
    p_canonical_middle text
)
RETURNS TABLE (o_sequence bigint, o_timestamp timestamptz, o_prev_hash varchar, o_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_sequence bigint;
    v_prev varchar;
    v_timestamp timestamptz;
    v_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_key);
    SELECT e.sequence, e.hash INTO v_sequence, v_prev
        FROM audit_auditevent e ORDER BY e.sequence DESC LIMIT 1;
    IF v_sequence IS NULL THEN
        v_sequence := 0;
        v_prev := repeat('0', 64);
    END IF;
    v_sequence := v_sequence + 1;
    v_timestamp := date_trunc('microseconds', clock_timestamp());
    v_hash := encode(sha256(convert_to(
        v_prev || p_canonical_head || v_sequence::text || p_canonical_middle
        || to_char(v_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || '"}',
        'UTF8')), 'hex');
    INSERT INTO audit_auditevent (
        sequence, "timestamp", actor_id, actor_text, actor_ip, request_id, action,
        target_type, target_id, target_text, scope, payload_json, prev_hash, hash
    ) VALUES (
        v_sequence, v_timestamp, p_actor_id, p_actor_text, p_actor_ip, p_request_id,
        p_action, p_target_type, p_target_id, p_target_text, p_scope, p_payload_json,
        v_prev, v_hash
    );
    RETURN QUERY SELECT v_sequence, v_timestamp, v_prev, v_hash;
END
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS audit_append(bigint, bigint, varchar, varchar, "
            "varchar, varchar, varchar, varchar, varchar, varchar, text, text, text);",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_checkpoint_append_only_triggers")]

    operations = [migrations.RunPython(forward, backward)]
