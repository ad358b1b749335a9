"""The error of a received profile that cannot be used, naming what is wrong."""

from __future__ import annotations


class ProfileInvalid(ValueError):
    """A window profile (or a whole profile document) that is refused.

    ``fields`` maps a path in the document (``windows[0].features.income``) to
    the messages about it, as the portal's 400 answers name them.
    """

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def __str__(self) -> str:
        if not self.fields:
            return self.message
        details = "; ".join(
            f"{path}: {' '.join(messages)}" for path, messages in self.fields.items()
        )
        return f"{self.message} {details}"


class FieldErrors:
    """Collects messages per path; ``raise_if_any`` raises one ``ProfileInvalid``."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        messages = self.fields.setdefault(path, [])
        if len(messages) < 5 and message not in messages:
            messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self, message: str = "The profile was refused.") -> None:
        if self.fields:
            # Bounded: a document with a thousand bad windows names the first 50.
            fields = dict(list(self.fields.items())[:50])
            raise ProfileInvalid(message, fields)
