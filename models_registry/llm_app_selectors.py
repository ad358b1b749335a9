"""Reads of LLM application versions: what a version pins, as labelled lines
with the pinned prompt versions and index snapshot to link (a fixed number of
queries)."""

from dataclasses import dataclass

from django.urls import reverse

from models_registry.models import LlmAppContent, ModelVersion


@dataclass(frozen=True)
class PinnedPrompt:
    name: str
    version: int
    content_hash: str
    url: str


@dataclass(frozen=True)
class LlmAppView:
    content: LlmAppContent
    prompts: list[PinnedPrompt]
    # [(label, text)]: base model, provider, generation parameters.
    settings: list[tuple[str, str]]
    index_snapshot: object | None
    index_url: str

    @property
    def full_text(self) -> str:
        """The pins as text, what a diff against another version compares."""
        lines = [f"Prompt: {p.name} v{p.version}" for p in self.prompts]
        lines += [f"{label}: {text}" for label, text in self.settings]
        snapshot = self.index_snapshot
        lines.append(
            f"Retrieval index: {snapshot.name} ({snapshot.sha256[:12]})"
            if snapshot
            else "Retrieval index: none"
        )
        return "\n".join(lines)


def llm_app_view(version: ModelVersion) -> LlmAppView | None:
    """What an LLM application version pins (None for other versions): two
    queries, the content with its snapshot, and the pins with their prompts."""
    content = (
        LlmAppContent.objects.select_related("index_snapshot")
        .filter(version_id=version.pk)
        .first()
    )
    if content is None:
        return None
    pins = content.pins.select_related(
        "prompt_version__model", "prompt_version__prompt"
    ).order_by("position")
    prompts = [
        PinnedPrompt(
            name=pin.prompt_version.model.name,
            version=pin.prompt_version.version,
            content_hash=pin.prompt_version.prompt.content_hash,
            url=reverse(
                "registry:version-detail",
                args=[pin.prompt_version.model.name, pin.prompt_version.version],
            ),
        )
        for pin in pins
    ]
    settings = [
        ("Base model", content.base_model),
        ("Provider", content.provider),
        ("Model", content.model_name),
        ("Temperature", f"{content.temperature:g}"),
        ("Max tokens", f"{content.max_tokens:,}"),
        ("Response format", content.get_response_format_display()),
    ]
    snapshot = content.index_snapshot
    return LlmAppView(
        content=content,
        prompts=prompts,
        settings=settings,
        index_snapshot=snapshot,
        index_url=reverse("registry:dataset-detail", args=[snapshot.pk])
        if snapshot
        else "",
    )
