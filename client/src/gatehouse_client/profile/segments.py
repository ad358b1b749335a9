"""Per-group counts of the fairness attributes, and KPI sums, as windows merge them;
and the segments of each row as the label-join index stores them."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gatehouse_client.profile import outcomes

# How the portal's normalised batch tables name segment columns.
SEGMENT_PREFIX = "s:"

MISSING_GROUP = "(missing)"


def _group_names(values: np.ndarray) -> np.ndarray:
    return np.asarray(
        [MISSING_GROUP if value is None else str(value) for value in values],
        dtype=object,
    )


def segment_counts(
    segments: dict[str, np.ndarray],
    *,
    positive: np.ndarray | None,
    rows: outcomes.RowOutcomes | None,
    include_predictions: bool,
) -> dict[str, dict[str, dict[str, float]]]:
    """Per attribute and group: predictions, predicted positives, and the
    label-joined counts fairness metrics are read from."""
    result: dict[str, dict[str, dict[str, float]]] = {}
    for attribute, raw in segments.items():
        names = _group_names(raw)
        groups: dict[str, dict[str, float]] = {}
        for group in dict.fromkeys(names.tolist()):
            mask = names == group
            entry: dict[str, float] = {}
            if include_predictions:
                entry["count"] = int(mask.sum())
                if positive is not None:
                    entry["positive"] = int(((positive == 1) & mask).sum())
            if rows is not None:
                labelled = rows.labelled & mask
                entry["labelled"] = int(labelled.sum())
                if rows.correct is not None:
                    entry["correct"] = int((rows.correct & labelled).sum())
                if rows.label_positive is not None:
                    entry["label_positive"] = int(
                        (rows.label_positive & labelled).sum()
                    )
                    entry["true_positive"] = int(
                        (rows.label_positive & rows.predicted_positive & labelled).sum()
                    )
                if rows.errors is not None:
                    entry["abs_error_sum"] = float(
                        np.abs(np.where(labelled, rows.errors, 0.0)).sum()
                    )
            groups[group] = entry
        result[attribute] = groups
    return result


def merge_segments(left: dict, right: dict) -> dict:
    merged = {attribute: dict(groups) for attribute, groups in left.items()}
    for attribute, groups in right.items():
        target = merged.setdefault(attribute, {})
        for group, counts in groups.items():
            target[group] = outcomes.merge_counts(target.get(group, {}), counts)
    return merged


def merge_kpis(left: dict, right: dict) -> dict:
    merged = {name: dict(values) for name, values in left.items()}
    for name, values in right.items():
        current = merged.get(name)
        if current is None:
            merged[name] = dict(values)
            continue
        current["count"] += values["count"]
        current["sum"] += values["sum"]
        current["min"] = min(current["min"], values["min"])
        current["max"] = max(current["max"], values["max"])
    return merged


def segment_arrays(
    table: pa.Table, prefix: str = SEGMENT_PREFIX
) -> dict[str, np.ndarray]:
    """The segment columns (named ``prefix + attribute``) as object arrays."""
    return {
        name[len(prefix) :]: np.asarray(table.column(name).to_pylist(), dtype=object)
        for name in table.column_names
        if name.startswith(prefix)
    }


def segment_json(table: pa.Table) -> np.ndarray | None:
    """Each row's segments as compact JSON text (None when the batch has none).

    Computed per distinct combination, so the cost is per group, not per row.
    """
    columns = [name for name in table.column_names if name.startswith(SEGMENT_PREFIX)]
    if not columns:
        return None
    codes = np.zeros(table.num_rows, dtype=np.int64)
    dictionaries = []
    stride = 1
    for name in columns:
        encoded = pc.dictionary_encode(table.column(name).combine_chunks())
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        size = len(encoded.dictionary) + 1
        indices = np.where(np.isnan(indices.astype(float)), size - 1, indices)
        codes += indices.astype(np.int64) * stride
        stride *= size
        dictionaries.append((name[len(SEGMENT_PREFIX) :], encoded.dictionary, size))
    unique, inverse = np.unique(codes, return_inverse=True)
    texts = []
    for code in unique.tolist():
        entry = {}
        for attribute, dictionary, size in dictionaries:
            index = code % size
            code //= size
            entry[attribute] = None if index == size - 1 else dictionary[index].as_py()
        texts.append(json.dumps(entry, separators=(",", ":")))
    return np.asarray(texts, dtype=object)[inverse]
