"""`dangan search` and `dangan suggest`: the full-text search the API offers, as readable text or `--json`.

On a terminal a snippet's matches are bold; piped or redirected, snippets are plain text (no markup)."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.text import Text

from api.cli.commands import MAX_ID, JsonOption, lowered, open_as
from api.cli.output import emit_json, say, stdout
from api.search.filters import search_filters
from api.views.search import SearchHit, SearchResultsView, Snippet

SNIPPET_INDENT = "       "
WHITESPACE = re.compile(r"\s+")  # a snippet is one line: line breaks of the page text become spaces


def search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words, "a phrase", 汉字, AND/OR/NOT, title: ref: fonds: series: type: date:[2020 to 2021].'
        ),
    ],
    limit: Annotated[int, typer.Option(min=1, max=100, help="Documents per page.")] = 20,
    page: Annotated[int, typer.Option(min=1, max=10_000, help="Page of results.")] = 1,
    sort: Annotated[str, typer.Option(help="relevance or date.")] = "relevance",
    fonds: Annotated[str | None, typer.Option(help="Only this fonds.")] = None,
    series: Annotated[str | None, typer.Option(help="Only this series.")] = None,
    batch: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="Only this batch.")] = None,
    date_from: Annotated[str | None, typer.Option(help="Dated on or after (YYYY[-MM[-DD]]).")] = None,
    date_to: Annotated[str | None, typer.Option(help="Dated on or before.")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="Original format: tiff, jpeg, png, pdf.")] = None,
    language: Annotated[str | None, typer.Option(help="OCR languages, e.g. chi_sim+eng.")] = None,
    level: Annotated[str | None, typer.Option(help="Only this access level.")] = None,
    creator: Annotated[str | None, typer.Option(help="Only this 责任者 (exact, any case).")] = None,
    organisation: Annotated[str | None, typer.Option(help="Only this 机构 (exact, any case).")] = None,
    keyword: Annotated[str | None, typer.Option(help="Only records with this 关键词.")] = None,
    year: Annotated[int | None, typer.Option(min=1000, max=9999, help="Only this 归档年度 (archival year).")] = None,
    clearance: Annotated[str | None, typer.Option(help="Search as this clearance (default: everything).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Full-text search: ranked documents with their matching pages and snippets, and facet counts."""
    from api.search.service import SearchService

    filters = search_filters(
        fonds=fonds,
        series=series,
        batch_id=batch,
        date_from=date_from,
        date_to=date_to,
        doc_type=doc_type,
        language=language,
        level=level,
        creator=creator,
        organisation=organisation,
        keyword=keyword,
        year=year,
    )
    context, actor = open_as(ctx)
    result = SearchService(context).search(
        lowered(actor, clearance), query, limit=limit, page=page, filters=filters, sort=sort
    )
    if json_out:
        emit_json(result)
    else:
        print_results(result, first_rank=(page - 1) * limit + 1)


def print_results(result: SearchResultsView, *, first_rank: int = 1) -> None:
    total = f"{result.total}" if result.total_is_exact else f"at least {result.total}"
    if result.total == 0:
        say(f"no documents match {result.query!r}")
        return
    say(f"{total} document(s) match {result.query!r}")
    if not result.hits:
        say(f"no documents on page {result.page} of the results (try a lower --page)")
    for rank, hit in enumerate(result.hits, start=first_rank):
        print_hit(rank, hit)
    for name, counts in result.facets.items():
        if counts:
            say(f"  {name}: " + ", ".join(f"{value} {count}" for value, count in counts.items()))


def print_hit(rank: int, hit: SearchHit) -> None:
    pages = ", ".join(str(number) for number in hit.pages)
    say(f"{rank:3}. {hit.reference_code}  {hit.title}  (pages {pages}; score {hit.score:.2f})")
    for snippet in hit.snippets:
        stdout.print(snippet_line(snippet, bold=stdout.is_terminal), highlight=False)


def snippet_line(snippet: Snippet, *, bold: bool) -> Text:
    """`p.3: … the harbour ledger of …` with the matches bold on a terminal, plain text otherwise."""
    line = Text(f"{SNIPPET_INDENT}p.{snippet.page}: ")
    for piece, matched in snippet.parts():
        line.append(WHITESPACE.sub(" ", piece), style="bold" if matched and bold else "")
    return line


def suggest(
    ctx: typer.Context,
    typed: Annotated[str, typer.Argument(help="The start of a title or reference code.")],
    limit: Annotated[int, typer.Option(help="How many suggestions.")] = 8,
    clearance: Annotated[str | None, typer.Option(help="Suggest as this clearance (default: everything).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Titles and reference codes that complete what you typed (what the search box offers as you type)."""
    from api.search.service import SearchService

    context, actor = open_as(ctx)
    result = SearchService(context).suggest(lowered(actor, clearance), typed, limit=limit)
    if json_out:
        emit_json(result)
        return
    if not result.suggestions:
        say(f"no titles or reference codes start with {typed!r}")
    for item in result.suggestions:
        say(f"{item.reference_code}  {item.title}")


def register(app: typer.Typer) -> None:
    for command in (search, suggest):
        app.command()(command)
