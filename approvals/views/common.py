"""What the approvals pages share beyond ``kernel.pages`` and
``kernel.numbers``: gate status labels and the roles a policy requires."""

from kernel.roles import ROLE_LABELS
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS

GATE_LABELS = {PASS: "Passes", FAIL: "Fails", NOT_APPLICABLE: "Not applicable"}


def role_labels(policy: dict) -> list[str]:
    return [
        ROLE_LABELS.get(role, role).lower() for role in policy.get("required_roles", [])
    ]
