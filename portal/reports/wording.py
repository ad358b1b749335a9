"""The report's structured values as people read them on screen and in the PDF
(the JSON and CSV exports keep the values themselves). Labels come from
``kernel.labels``, the same ones the pages use."""

from typing import Any

from kernel.labels import label
from kernel.numbers import number


def pairs_text(values: dict[str, Any] | None) -> str:
    """``{"depth": 6, "eta": 0.1}`` reads ``depth=6, eta=0.1``."""
    return ", ".join(f"{key}={value}" for key, value in sorted((values or {}).items()))


def feature_spec_text(spec: list[dict[str, Any]] | None) -> str:
    """``[{"name": "income", "type": "float"}]`` reads ``income (float)``."""
    return ", ".join(
        f"{feature.get('name')} ({feature.get('type')})"
        if feature.get("type")
        else str(feature.get("name"))
        for feature in spec or []
        if isinstance(feature, dict)
    )


def tolerance_text(tolerance: dict[str, Any] | None) -> str:
    """How a re-run must match: the model's reproducibility tolerance."""
    tolerance = tolerance or {}
    if tolerance.get("mode", "exact_hash") == "exact_hash":
        return "the re-run must give the same artifact hash"
    allowed = ", ".join(
        f"{name} ± {number(value)}"
        for name, value in sorted((tolerance.get("tolerances") or {}).items())
    )
    return f"the re-run's metrics within tolerance: {allowed or 'none named'}"


def differences_text(differences: dict[str, Any] | None) -> str:
    """What a reproduction check found different, one clause per item."""
    differences = differences or {}
    parts = []
    if "artifact_sha256" in differences:
        parts.append("artifact hash differs")
    for name, entry in sorted((differences.get("metrics") or {}).items()):
        if "difference" not in entry:
            parts.append(f"{name}: {entry.get('problem', 'not compared')}")
            continue
        verdict = "within" if entry.get("within") else "outside"
        parts.append(
            f"{name} {number(entry.get('original'))} → {number(entry.get('rerun'))} "
            f"(difference {number(entry['difference'])}, {verdict} "
            f"± {number(entry.get('tolerance'))})"
        )
    return "; ".join(parts)


def policy_text(policy: dict[str, Any] | None) -> str:
    """A policy snapshot as a sentence."""
    if not policy:
        return ""
    approvals = policy.get("required_approvals", 1)
    parts = [f"{approvals} approval{'s' if approvals != 1 else ''}"]
    roles = [label("role", role).lower() for role in policy.get("required_roles", [])]
    if roles:
        parts[0] += ", including a " + " and a ".join(roles)
    if policy.get("gate_items"):
        parts.append(f"{len(policy['gate_items'])} gates")
    if policy.get("requires_staged_rollout"):
        parts.append("shadow or canary before full traffic")
    if policy.get("big_change_requires_ab"):
        parts.append("big changes as an A/B test")
    if policy.get("approval_valid_days"):
        parts.append(f"approvals valid {policy['approval_valid_days']} days")
    return "; ".join(parts)


def card_sections(content: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"label": label("card_field", field), "text": text}
        for field, text in (content or {}).items()
    ]
