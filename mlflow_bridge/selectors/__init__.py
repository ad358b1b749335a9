"""Reads for MLflow clients, limited to what the actor may see.

Each read runs a fixed number of queries whatever the page size: the models or
versions (the permission check inside), one query for the tags, aliases,
governed-alias configuration and live full deployments of the page, and for
models one for their latest versions. A version's MLflow stage and its governed
aliases are computed from the live deployments, never stored.

The reads that MLflow clients repeat most (a model or a version by name, the
page context, the latest versions) are fixed SQL texts; one model or version
reads its page context in the same query, as a JSON column run through
``kernel.db`` (``fixed_sql``), prepared once per connection; searches, whose
filters vary, build their queries with the ORM (``search``).
"""

from mlflow_bridge.selectors.context import (
    ModelView,
    VersionView,
    governed_aliases,
    governed_for,
)
from mlflow_bridge.selectors.registered_models import (
    created_model_view,
    latest_versions,
    model_get,
    model_search,
    model_view,
    model_views,
    rendered_model_tags,
)
from mlflow_bridge.selectors.search import filter_models, filter_versions
from mlflow_bridge.selectors.versions import (
    created_version_view,
    version_by_alias,
    version_get,
    version_search,
    version_view,
    version_views,
)

__all__ = [
    "ModelView",
    "VersionView",
    "created_model_view",
    "created_version_view",
    "filter_models",
    "filter_versions",
    "governed_aliases",
    "governed_for",
    "latest_versions",
    "model_get",
    "model_search",
    "model_view",
    "model_views",
    "rendered_model_tags",
    "version_by_alias",
    "version_get",
    "version_search",
    "version_view",
    "version_views",
]
