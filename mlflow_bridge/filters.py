"""MLflow's search filter syntax, parsed without MLflow.

``name = 'credit' AND tags.`team` LIKE 'risk%'``: clauses joined by AND, each an
identifier (``name``, ``run_id``, ``source_path``, ``version_number``,
``tags.<key>`` with the key bare, in backticks or in double quotes), a
comparator, and a quoted string, a number, or a parenthesised list of strings
for IN. Which identifiers and comparators a search accepts is decided by the
selector that applies the clauses.
"""

import re
from dataclasses import dataclass

from mlflow_bridge import errors

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<and>AND\b)
    | (?P<comparator>!=|>=|<=|=|<|>|NOT\s+IN\b|IN\b|NOT\s+ILIKE\b|ILIKE\b
                     |NOT\s+LIKE\b|LIKE\b)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<comma>,)
    | (?P<identifier>(?:`[^`]+`|[A-Za-z_]\w*)(?:\.(?:`[^`]+`|"[^"]+"|[\w.\-]+))?)
    )""",
    re.IGNORECASE | re.VERBOSE,
)
TAG_PREFIXES = ("tags", "tag")


@dataclass(frozen=True)
class Clause:
    kind: str  # "attribute" or "tag"
    key: str
    comparator: str  # upper case, one space in "NOT IN"
    value: str | int | float | tuple[str, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise errors.invalid(
                f"Invalid filter '{text}': cannot parse it at “{text[position:]}”."
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`\"'":
        body = text[1:-1]
        return re.sub(r"\\(.)", r"\1", body) if text[0] != "`" else body
    return text


def _identifier(text: str) -> tuple[str, str]:
    head, dot, rest = text.partition(".")
    head = _unquote(head).lower()
    if dot and head in TAG_PREFIXES:
        return "tag", _unquote(rest)
    if dot and head == "attribute":
        return "attribute", _unquote(rest).lower()
    if dot:
        raise errors.invalid(
            f"Invalid identifier “{text}”: use an attribute such as name, or "
            "tags.<key>."
        )
    return "attribute", head


def parse(text: str | None) -> list[Clause]:
    """Parse a filter string; an empty one matches everything."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    clauses = []
    index = 0

    def take(*kinds: str) -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens) or tokens[index][0] not in kinds:
            found = tokens[index][1] if index < len(tokens) else "the end"
            raise errors.invalid(
                f"Invalid filter '{text}': expected {' or '.join(kinds)} at “{found}”."
            )
        token = tokens[index]
        index += 1
        return token

    while True:
        kind, key = _identifier(take("identifier")[1])
        comparator = " ".join(take("comparator")[1].upper().split())
        value: str | int | float | tuple[str, ...]
        if comparator in ("IN", "NOT IN"):
            take("lparen")
            items = [_unquote(take("string")[1])]
            while index < len(tokens) and tokens[index][0] == "comma":
                index += 1
                items.append(_unquote(take("string")[1]))
            take("rparen")
            value = tuple(items)
        else:
            value_kind, raw = take("string", "number")
            if value_kind == "string":
                value = _unquote(raw)
            else:
                value = float(raw) if "." in raw else int(raw)
        clauses.append(Clause(kind, key, comparator, value))
        if index == len(tokens):
            return clauses
        take("and")


def like_to_regex(pattern: str) -> str:
    """SQL LIKE (``%`` any run, ``_`` one character) as an anchored regex that
    PostgreSQL and SQLite read the same way."""
    parts = []
    for character in pattern:
        if character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return "^" + "".join(parts) + "$"
