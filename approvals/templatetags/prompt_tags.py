"""A prompt version's diff against what is live, on the registry's version page
(the registry does not import approvals: it asks through this tag)."""

from django import template

from approvals import selectors
from approvals.models import Environment, Strategy
from models_registry import selectors as registry

register = template.Library()


@register.inclusion_tag("approvals/_prompt_live_diff.html")
def prompt_live_diff(version):
    """Per environment, the version live at full traffic and the diff of this
    version against it (two queries, and one per live version's content)."""
    live = {
        deployment.environment_id: deployment
        for deployment in selectors.deployment_live_list(
            model_name=version.model.name
        ).filter(strategy=Strategy.FULL)
    }
    rows = []
    for environment in Environment.objects.order_by("order"):
        deployment = live.get(environment.pk)
        rows.append(
            {
                "environment": environment,
                "deployment": deployment,
                "is_this": deployment is not None
                and deployment.version_id == version.pk,
                "diff": registry.prompt_diff(version, deployment.version)
                if deployment is not None and deployment.version_id != version.pk
                else None,
            }
        )
    return {"version": version, "rows": rows}
