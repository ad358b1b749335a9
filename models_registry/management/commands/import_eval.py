"""Import an eval harness's results file as an evaluation of a prompt (or
model) version, as the person named by --user:

    manage.py import_eval support-assistant 3 results.json --format promptfoo \\
        --user dana [--safety] [--judge-model openai:gpt-4.1] [--dataset-name ...]

The same service as the REST API (permission, bounds, audit event); a refused
file stores nothing and exits with the reasons.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ServiceError
from kernel.guards import loads_checked
from models_registry import selectors
from models_registry.eval_formats import PARSERS
from models_registry.services.llm_evaluations import llm_evaluation_import

MAX_FILE_BYTES = 64 * 2**20


class Command(BaseCommand):
    help = "Import an eval harness's results (promptfoo, mlflow_genai, generic)."

    def add_arguments(self, parser):
        parser.add_argument("model", help="The prompt's (or model's) name.")
        parser.add_argument("version", type=int, help="The version number.")
        parser.add_argument("path", help="The results file (JSON).")
        parser.add_argument("--format", required=True, choices=list(PARSERS))
        parser.add_argument("--user", required=True, help="Who imports (username).")
        safety = parser.add_mutually_exclusive_group()
        safety.add_argument("--safety", dest="is_safety", action="store_true")
        safety.add_argument("--not-safety", dest="is_safety", action="store_false")
        parser.set_defaults(is_safety=None)
        parser.add_argument("--judge-model", default="")
        parser.add_argument("--dataset-name", default="")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user “{options['user']}”.")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes.")
        try:
            document = loads_checked(path.read_bytes())
        except Exception as error:  # ParseError and decoding errors alike
            raise CommandError(f"{path} is not JSON: {error}") from error
        try:
            version = selectors.version_get_by_number(
                actor=user, model_name=options["model"], number=options["version"]
            )
            evaluation, created = llm_evaluation_import(
                actor=user,
                version=version,
                source_format=options["format"],
                document=document,
                is_safety=options["is_safety"],
                judge_model=options["judge_model"],
                dataset_name=options["dataset_name"],
            )
        except ServiceError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}"
                for field, messages in error.fields.items()
            )
            raise CommandError(f"{error.message} {problems}".strip()) from error
        metrics = json.dumps(evaluation.metrics, sort_keys=True)
        state = "Imported" if created else "Already imported"
        self.stdout.write(
            f"{state} evaluation {evaluation.pk} of {options['model']} "
            f"v{options['version']}: {evaluation.case_count} cases, "
            f"{evaluation.passed_count} passed; metrics {metrics}"
        )
