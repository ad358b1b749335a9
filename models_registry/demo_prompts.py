"""The demo's LLM product for ``manage.py seed_demo``: ``support-assistant``, a
prompt of the credit-risk team (medium risk) with three versions registered by
dana through the services, each with a complete prompt card. Idempotent: the
same content is the same version. Its evaluations, approvals and monitoring
are seeded by the LLM evaluation, approvals and monitoring demos."""

from models_registry import services
from models_registry.models import RegisteredModel

PROMPT = "support-assistant"
SYSTEM_V2 = (
    "You are the customer-support assistant of Example Bank. Answer questions "
    "about cards, statements and payments for {{customer_name}} in a {{tone}} "
    "tone. Never ask for or repeat a card number, PIN or password; for account "
    "changes, hand over to a human agent."
)
SYSTEM_V3 = (
    "You are Example Bank's support assistant. Be warm and brief: at most three "
    "sentences for {{customer_name}}. Never ask for or repeat a card number, PIN "
    "or password; for account changes, hand over to a human agent."
)
VERSIONS = [
    (
        "Hello {{customer_name}}. You are the support assistant of Example Bank. "
        "Answer this question about cards, statements or payments: {{question}}",
        "First support prompt: a single text template.",
        {"provider": "openai", "model_name": "gpt-4.1-mini", "temperature": 0.3},
    ),
    (
        [
            {"role": "system", "content": SYSTEM_V2},
            {"role": "user", "content": "{{question}}"},
        ],
        "Chat template with a system message and the hand-over rule.",
        {
            "provider": "openai",
            "model_name": "gpt-4.1-mini",
            "temperature": 0.2,
            "max_tokens": 400,
        },
    ),
    (
        [
            {"role": "system", "content": SYSTEM_V3},
            {"role": "user", "content": "{{question}}"},
        ],
        "Warmer tone, shorter answers.",
        {
            "provider": "openai",
            "model_name": "gpt-4.1-mini",
            "temperature": 0.5,
            "max_tokens": 250,
        },
    ),
]
CARD = {
    "intended_use": "Answers retail customers' questions about cards, statements "
    "and payments in the web chat, in English.",
    "out_of_scope_uses": "Credit decisions, complaints handling, legal or tax "
    "advice, anything that changes an account.",
    "limitations": "Invents fee amounts when the knowledge base has none; drifts "
    "into the customer's language; long threads lose the hand-over rule.",
    "ethical_considerations": "Refuses to ask for or repeat card numbers, PINs "
    "and passwords; hands account changes to a human agent; red-team suite of "
    "prompt injections and data exfiltration before every release.",
}


def seed_prompt_demo(*, actor, team) -> list[str]:
    """Create support-assistant and its three versions; return a summary line."""
    prompt = RegisteredModel.objects.filter(name=PROMPT).first()
    if prompt is None:
        prompt = services.model_create(
            actor=actor,
            name=PROMPT,
            kind="prompt",
            title="Customer-support assistant",
            description="The web chat's assistant for card and payment questions.",
            team=team,
            domain="other",
            risk_class="medium",
            regulatory_tier="limited",
            serving_mode="real_time",
            latency_slo_ms=3000,
            latency_slo_percentile=95,
            offline_success_metrics=[
                {"metric": "answer_relevance", "direction": "higher", "threshold": 0.8},
                {"metric": "faithfulness", "direction": "higher", "threshold": 0.85},
                {"metric": "refusal_rate", "direction": "lower", "threshold": 0.1},
            ],
            online_success_metrics=[
                {"kpi": "thumbs_up_rate", "direction": "higher", "threshold": 0.7},
                {"kpi": "cost_per_call_usd", "direction": "lower", "threshold": 0.01},
            ],
        )
    for template, message, config in VERSIONS:
        services.prompt_version_register(
            actor=actor,
            model=prompt,
            template=template,
            model_config=config,
            commit_message=message,
            tags={"channel": "web-chat"},
            card=CARD,
        )
    return [
        f"  prompts: {PROMPT} (medium risk, {prompt.versions.count()} versions, "
        "credit-risk)"
    ]
