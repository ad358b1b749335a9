"""The LLM dashboard of a deployment: calls, tokens and cost, latency against
the SLO, refusal, safety-flag and feedback rates, judge scores against their
baselines, day by day, and the LLM alerts. Reads go through
``monitoring.llm.selectors`` (404 for what a person may not see)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kernel.guards import is_digits
from kernel.pages import service_errors_as_http
from monitoring.charts import embed
from monitoring.llm.charts import llm_figures
from monitoring.llm.selectors import PERIOD_DAYS, llm_dashboard

PERIOD_LABELS = {
    1: "Last day",
    7: "Last 7 days",
    30: "Last 30 days",
    90: "Last 90 days",
}


def _breakdown(counts: dict[str, int], calls: int) -> list[tuple[str, int, float]]:
    """(name, calls, share) by calls, most first."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(name.replace("_", " "), count, count / calls) for name, count in ranked]


@login_required
@require_GET
@service_errors_as_http
def dashboard(request, id: int):
    raw_days = request.GET.get("days", "")
    period = llm_dashboard(
        actor=request.user,
        deployment_id=id,
        days=int(raw_days) if is_digits(raw_days) and len(raw_days) < 4 else 7,
    )
    total = period.total
    calls = total.get("calls", 0)
    context = {
        "period": period,
        "deployment": period.deployment,
        "model": period.model,
        "total": total,
        "periods": [(days, PERIOD_LABELS[days]) for days in PERIOD_DAYS],
        "charts": {
            name: embed(figure, f"chart-llm-{name}")
            for name, figure in llm_figures(period, period.baselines).items()
        },
        "judge": [
            (
                name.replace("_", " "),
                entry["mean"],
                entry["count"],
                period.baselines.get(name),
            )
            for name, entry in (total.get("judge") or {}).items()
        ],
        "models": _breakdown(total.get("models", {}), calls) if calls else [],
        "finish": _breakdown(total.get("finish", {}), calls) if calls else [],
        "safety": _breakdown(total.get("safety", {}), calls) if calls else [],
        "days": list(reversed(period.daily)),
    }
    return render(request, "monitoring/llm_dashboard.html", context)
