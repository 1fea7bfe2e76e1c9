"""Reading order of line boxes (ingest/engines/layout.py): columns of running text are read one after the other,
tables and single columns in rows."""

from __future__ import annotations

from ingest.engines.base import TextBox
from ingest.engines.layout import columns, reading_order

LINE = 40  # px: a text line's height


def _column(name: str, left: int, right: int, count: int) -> list[TextBox]:
    return [TextBox(f"{name}{row}", (left, 100 + row * 60, right, 100 + row * 60 + LINE)) for row in range(count)]


def _texts(lines: list[TextBox]) -> list[str]:
    return [line.text for line in lines]


def test_newspaper_columns_are_read_column_by_column() -> None:
    page = _column("a", 100, 700, 5) + _column("b", 760, 1360, 5) + _column("c", 1420, 2020, 4)
    shuffled = sorted(page, key=lambda line: (line.box[1], -line.box[0]))  # as a detector may list them
    assert _texts(reading_order(shuffled)) == _texts(page)
    assert [len(part) for part in columns(shuffled)] == [5, 5, 4]


def test_a_full_width_line_bridging_the_gutter_keeps_the_page_in_rows() -> None:
    page = [TextBox("title", (100, 20, 1360, 20 + LINE)), *_column("a", 100, 700, 4), *_column("b", 760, 1360, 4)]
    assert _texts(reading_order(page)) == ["title", "a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"]


def test_table_cells_are_read_row_by_row() -> None:
    cells = [
        TextBox(f"r{row}c{col}", (100 + col * 400, 100 + row * 60, 260 + col * 400, 100 + row * 60 + LINE))
        for row in range(4)
        for col in range(3)
    ]
    assert _texts(reading_order(list(reversed(cells)))) == [f"r{row}c{col}" for row in range(4) for col in range(3)]


def test_a_single_column_and_a_short_page_are_rows() -> None:
    page = _column("a", 100, 2000, 6)
    assert _texts(reading_order(list(reversed(page)))) == _texts(page)
    few = _column("a", 100, 700, 2) + _column("b", 760, 1360, 2)
    assert _texts(reading_order(few)) == ["a0", "b0", "a1", "b1"]


def test_lines_without_text_are_dropped() -> None:
    assert reading_order([TextBox("", (0, 0, 500, LINE)), TextBox("kept", (0, 60, 500, 60 + LINE))]) == [
        TextBox("kept", (0, 60, 500, 60 + LINE))
    ]
