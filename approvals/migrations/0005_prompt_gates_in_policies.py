"""The prompt gates (approvals.prompt_gates) in every default policy: a prompt
version needs its evaluation to meet the success metrics, a safety evaluation
from medium risk up (the gate itself knows the risk class) and an eval set it
was not tuned on; production also needs no regression against live and a
complete prompt card."""

from django.db import migrations

STAGING = ["llm_eval_met", "llm_safety_eval", "prompt_eval_not_tuned"]
PRODUCTION = [
    "llm_eval_met",
    "llm_safety_eval",
    "llm_no_regression",
    "prompt_card_complete",
    "prompt_eval_not_tuned",
]


def add_prompt_gates(apps, schema_editor):
    policy_model = apps.get_model("approvals", "ApprovalPolicy")
    for policy in policy_model.objects.select_related("environment"):
        if not policy.prompt_gate_items:
            production = policy.environment.is_production
            policy.prompt_gate_items = PRODUCTION if production else STAGING
            policy.save(update_fields=["prompt_gate_items"])


def remove_prompt_gates(apps, schema_editor):
    apps.get_model("approvals", "ApprovalPolicy").objects.update(prompt_gate_items=[])


class Migration(migrations.Migration):
    dependencies = [("approvals", "0004_prompt_gate_items")]

    operations = [migrations.RunPython(add_prompt_gates, remove_prompt_gates)]
