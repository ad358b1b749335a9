"""python manage.py import_mlflow --tracking-uri URL --user USERNAME [--team SLUG]"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mlflow_bridge.importing import MlflowReader, SourceUnavailable, import_registry


class Command(BaseCommand):
    help = (
        "Import an MLflow model registry (models, versions, tags, aliases and the "
        "runs' params, metrics and dataset inputs) through its REST API. Running "
        "it again imports only what is new. Credentials for the MLflow server come "
        "from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tracking-uri", required=True, help="MLflow server URL")
        parser.add_argument(
            "--user",
            required=True,
            help="Gatehouse username the records are registered by (a data "
            "scientist of the owning team); every write is audited as them.",
        )
        parser.add_argument(
            "--team",
            help="Team slug for models without a gatehouse.team tag (default: the "
            "user's only team).",
        )
        parser.add_argument(
            "--file-root",
            action="append",
            default=[],
            help="Also read file:// sources under this directory to hash them "
            "(repeatable; added to MLFLOW_FILE_SOURCE_ROOTS for this run).",
        )

    def handle(self, *args, **options):
        actor = (
            get_user_model()
            .objects.filter(username=options["user"], is_active=True)
            .first()
        )
        if actor is None:
            raise CommandError(f"No active user named {options['user']!r}.")
        reader = MlflowReader(options["tracking_uri"])
        try:
            summary = import_registry(
                actor=actor,
                reader=reader,
                team_slug=options["team"],
                extra_roots=tuple(options["file_root"]),
                progress=self._progress,
            )
        except SourceUnavailable as error:
            raise CommandError(f"Cannot read the MLflow registry: {error}") from error
        self.stdout.write(f"Imported from {reader.base}")
        for line in summary.lines():
            self.stdout.write(line)

    def _progress(self, done: int, total: int, name: str) -> None:
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done == total else ""
        self.stderr.write(
            f"\r[{bar}] {done}/{total} models {name[:40]:<40}", ending=end
        )
        self.stderr.flush()
