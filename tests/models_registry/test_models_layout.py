"""The registry's tables are split by sub-domain (cards in ``card_models``,
prompts in ``prompt_models``, ...) and re-exported by ``models_registry.models``,
so every ``from models_registry.models import ModelCard`` keeps working and no
module grows past the ~500-line rule."""

from pathlib import Path

import models_registry
from models_registry import card_models, models

APP = Path(models_registry.__file__).parent
MAX_LINES = 500


def test_no_registry_module_is_past_the_size_rule():
    sizes = {
        str(path.relative_to(APP)): len(path.read_text().splitlines())
        for path in APP.rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def test_cards_live_in_their_own_module_and_are_re_exported():
    assert models.ModelCard is card_models.ModelCard
    assert models.ModelCardRevision is card_models.ModelCardRevision
    assert models.CARD_FIELDS is card_models.CARD_FIELDS
    assert card_models.ModelCard.__module__ == "models_registry.card_models"


def test_the_split_keeps_the_tables():
    assert card_models.ModelCard._meta.app_label == "models_registry"
    assert card_models.ModelCard._meta.db_table == "models_registry_modelcard"
    revision = card_models.ModelCardRevision._meta
    assert revision.db_table == "models_registry_modelcardrevision"
    assert revision.get_field("card").related_model is card_models.ModelCard
