"""The registry's pages for people: models, versions, cards, datasets and runs.

Every read goes through ``models_registry.selectors``, so whatever a person may
not see answers 404, exactly as in the API and the lists. Every write goes
through ``models_registry.services``, which check the rules again and record the
audit event. The helpers in each module only shape records for the templates.
"""

from models_registry.views.cards import card_edit, card_history
from models_registry.views.datasets import dataset_detail, run_detail
from models_registry.views.registered_models import (
    model_detail,
    model_list,
    model_risk_class_change,
)
from models_registry.views.versions import version_detail

__all__ = [
    "card_edit",
    "card_history",
    "dataset_detail",
    "model_detail",
    "model_list",
    "model_risk_class_change",
    "run_detail",
    "version_detail",
]
