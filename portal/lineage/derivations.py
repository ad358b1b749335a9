"""Derivations between dataset snapshots: followed by one recursive query.

``WITH RECURSIVE`` over the ``parents`` through-table (PostgreSQL and SQLite
alike), so walking a derivation chain costs one query whatever its depth.
"""

from collections import defaultdict, deque

from django.db import connection

from models_registry import selectors
from models_registry.models import DatasetSnapshot


def _table_names() -> tuple[str, str, str, str]:
    quote = connection.ops.quote_name
    through = DatasetSnapshot.parents.through._meta
    return (
        quote(DatasetSnapshot._meta.db_table),
        quote(through.db_table),
        quote(through.get_field("from_datasetsnapshot").column),
        quote(through.get_field("to_datasetsnapshot").column),
    )


def derivation_edges(seed_ids: set[int], *, towards: str) -> list[tuple[int, int]]:
    """(child, parent) pairs reachable from the seeds, in one recursive query.

    ``towards="parents"`` follows derivations upstream (every ancestor of the
    seeds), ``towards="children"`` downstream (every descendant). UNION, not
    UNION ALL: each snapshot enters the walk once, so diamonds cost nothing
    extra and even a cycle (which the services never make) would end.
    """
    if not seed_ids:
        return []
    snapshots, through, child, parent = _table_names()
    if towards == "parents":
        step_from, step_to = child, parent
    elif towards == "children":
        step_from, step_to = parent, child
    else:
        raise ValueError(f"towards must be 'parents' or 'children', not {towards!r}")
    seeds = sorted(seed_ids)
    placeholders = ", ".join(["%s"] * len(seeds))
    # Identifiers come from the models' metadata; values are parameters.
    sql = (
        f"WITH RECURSIVE walk(id) AS ("  # noqa: S608
        f" SELECT id FROM {snapshots} WHERE id IN ({placeholders})"
        f" UNION"
        f" SELECT link.{step_to} FROM {through} AS link"
        f" JOIN walk ON link.{step_from} = walk.id"
        f") SELECT {child}, {parent} FROM {through}"
        f" WHERE {step_from} IN (SELECT id FROM walk)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, seeds)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def longest_depths(seed_ids: set[int], edges: list[tuple[int, int]]) -> dict[int, int]:
    """Longest derivation distance of each snapshot from the seeds' side: a parent
    is always deeper than every child it has in the graph (so it is drawn to the
    left of all of them)."""
    children: dict[int, set[int]] = defaultdict(set)
    parents: dict[int, set[int]] = defaultdict(set)
    nodes = set(seed_ids)
    for child, parent in edges:
        children[parent].add(child)
        parents[child].add(parent)
        nodes.update((child, parent))
    # Kahn's order from the snapshots no other snapshot in the graph derives from.
    pending = {node: len(children[node]) for node in nodes}
    depth = dict.fromkeys(nodes, 0)
    queue = deque(node for node, count in pending.items() if count == 0)
    while queue:
        node = queue.popleft()
        for parent in parents[node]:
            depth[parent] = max(depth[parent], depth[node] + 1)
            pending[parent] -= 1
            if pending[parent] == 0:
                queue.append(parent)
    return depth


def shortest_depths(root: int, edges: list[tuple[int, int]]) -> dict[int, int]:
    """Fewest derivation steps from ``root`` down to each of its descendants."""
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in edges:
        children[parent].append(child)
    depth = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for child in children[node]:
            if child not in depth:
                depth[child] = depth[node] + 1
                queue.append(child)
    return depth


def visible_snapshot_ids(actor, ids: set[int]) -> set[int]:
    """Those of ``ids`` the actor may see (one query, the registry's rule)."""
    return set(
        selectors.dataset_list(actor=actor)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
