"""The base of every typed result a use case returns: a pydantic model that routes declare as their response
model and that the CLI prints (`--json`) or renders as text. Field names are the API's JSON names."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    """A use case's result. Frozen: a result is a fact about one moment, not something to edit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def as_json(self) -> dict[str, Any]:
        """The JSON the API answers with (and `--json` prints): the same dict, the same keys."""
        return self.model_dump(mode="json", exclude_none=False)


def as_json(value: Any) -> Any:
    """A View, a list of Views, or plain data, as JSON-ready data (for `--json` and CSV/JSON exports)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


class CodedView(View):
    """A line the page says in its own language (archive/coded.py): its code and the values its text names."""

    code: str
    params: dict[str, str | int | float | bool | None]
