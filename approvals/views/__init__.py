"""The approvals pages for people: the reviewer queue, a request with its
evidence and decision form, the submit form, deployments with one-click
rollback, a model's deployment timeline and the validation report form.

Every read goes through ``approvals.selectors`` (and the registry's selectors),
so whatever a person may not see answers 404; every write goes through
``approvals.services``, which check the rules again and record the audit event.
The modules of this package only shape records for the templates.
"""

from approvals.views.deployments import (
    deployment_detail,
    deployment_rollback,
    model_timeline,
)
from approvals.views.requests import (
    queue,
    request_cancel,
    request_decide,
    request_detail,
    request_new,
    request_new_by_id,
)
from approvals.views.validation import version_validate

__all__ = [
    "deployment_detail",
    "deployment_rollback",
    "model_timeline",
    "queue",
    "request_cancel",
    "request_decide",
    "request_detail",
    "request_new",
    "request_new_by_id",
    "version_validate",
]
