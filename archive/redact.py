"""Messages that reach a user never show the server's folders: a path under one of them becomes its file name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

# A path runs until whitespace, a quote or a bracket; spooled names never hold those (uploads are renamed).
_REST = r"(?:/[^\s'\"()\[\]<>,;]*)?(?![^\s'\"()\[\]<>,;/])"


def hide_paths(text: str, roots: Iterable[Path | str], *, names: dict[str, str] | None = None) -> str:
    """Replace each path under one of roots by `names[path]` (a display name) or else its last component;
    a root folder on its own becomes '…'."""
    for path, name in sorted((names or {}).items(), key=lambda pair: -len(pair[0])):
        text = text.replace(path, name)
    for root in sorted({str(r).rstrip("/") for r in roots if str(r).strip("/")}, key=len, reverse=True):
        text = re.sub(re.escape(root) + _REST, _LastPart(root), text)
    return text


class _LastPart:
    def __init__(self, root: str) -> None:
        self.root = root

    def __call__(self, match: re.Match[str]) -> str:
        inside = match.group(0)[len(self.root) :].strip("/")
        return inside.rsplit("/", 1)[-1] if inside else "…"
