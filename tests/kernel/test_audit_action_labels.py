"""Every audit action the code records reads as a label people understand: the
test walks the source for the actions recorded (``action="..."`` and the few
helpers that take the action first) and checks that ``kernel.labels`` labels
each one itself, not through the fallback that turns a code into words."""

import ast
import re
from pathlib import Path

from kernel import labels

ROOT = Path(__file__).resolve().parents[2]
APPS = ("approvals", "audit", "identity", "kernel", "mlflow_bridge")
APPS += ("models_registry", "monitoring", "portal")
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")
# Functions that record an audit event with the action among their first two
# positional arguments (audit_record's local wrappers).
RECORDERS = {"audit_record", "record", "_record", "_audit"}
# Actions built from a value: each f-string, and every action it can make.
BUILT = {
    'f"request.{status}"': {"request.cancelled", "request.expired", "request.rejected"},
    'f"{kind}.{verb}"': {
        "role.granted",
        "role.revoked",
        "team.member_added",
        "team.member_removed",
        "group.member_added",
        "group.member_removed",
    },
    'f"permission.{verb}"': {"permission.granted", "permission.revoked"},
}


def _recorded_actions() -> tuple[dict[str, str], dict[str, str]]:
    """``({action: where}, {f-string: where})`` over the apps' source."""
    found: dict[str, str] = {}
    built: dict[str, str] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            text = path.read_text()
            where = str(path.relative_to(ROOT))
            for call in ast.walk(ast.parse(text)):
                if not isinstance(call, ast.Call):
                    continue
                values = [kw.value for kw in call.keywords if kw.arg == "action"]
                name = getattr(call.func, "id", None) or getattr(call.func, "attr", "")
                if name in RECORDERS:
                    values += call.args[:2]
                for value in values:
                    for node in ast.walk(value):
                        if isinstance(node, ast.JoinedStr):
                            source = ast.get_source_segment(text, node)
                            built[source] = f"{where}:{node.lineno}"
                        elif isinstance(node, ast.Constant) and ACTION.match(
                            str(node.value)
                        ):
                            found.setdefault(node.value, f"{where}:{node.lineno}")
    return found, built


def test_the_walk_finds_the_actions_of_every_kind_of_call():
    found, built = _recorded_actions()
    # action="..." keywords, a conditional action, and the helpers.
    assert {"model.registered", "policy.created", "policy.changed"} <= found.keys()
    assert {"alert.opened", "identity.role_granted", "identity.user_deleted"} <= (
        found.keys()
    )
    assert len(found) > 60
    assert built


def test_every_recorded_action_has_its_own_label():
    found, built = _recorded_actions()
    assert set(built) <= set(BUILT), f"label the actions of {built}"
    actions = set(found) | set().union(*BUILT.values())
    missing = {
        action: found.get(action, "built")
        for action in sorted(actions)
        if action not in labels.AUDIT_ACTIONS
    }
    assert missing == {}


def test_labels_are_words_not_codes():
    for action, text in labels.AUDIT_ACTIONS.items():
        assert text, action
        assert not set(text) & {".", "_"}, action
        assert labels.label("audit_action", action) == text
