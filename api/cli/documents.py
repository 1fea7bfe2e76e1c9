"""`dangan document ...`: one record at a time: show it, read its text, its event history, withdraw it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import JsonOption, acting_user, open_context
from api.cli.output import emit_json, say, stderr

if TYPE_CHECKING:
    from api.views.records import DocumentView, PageView

app = typer.Typer(
    no_args_is_help=True, help="One record: show it, edit its metadata, read its text, its history, withdraw it."
)
DocumentId = Annotated[
    int, typer.Argument(min=1, max=2**63 - 1, help="The document's id (see `dangan search --json`).")
]


@app.command()
def show(ctx: typer.Context, document_id: DocumentId, json_out: JsonOption = False) -> None:
    """A record's metadata, its pages with their quality findings, and its files (as the API shows them)."""
    from api.records.documents import DocumentService

    view = DocumentService(open_context(ctx)).get(acting_user(ctx), document_id)
    if json_out:
        emit_json(view)
    else:
        print_document(view)


@app.command()
def text(
    ctx: typer.Context,
    document_id: DocumentId,
    page: Annotated[int | None, typer.Option(min=1, max=100_000, help="Only this page (default: all).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Print a record's text: all current pages, a form feed between pages, or one page with --page."""
    from api.records.documents import DocumentService

    found = DocumentService(open_context(ctx)).text(acting_user(ctx), document_id, page=page)
    if json_out:
        emit_json(found)
        return
    if not found.text.strip():
        which = f"page {page} of {found.reference_code}" if page is not None else found.reference_code
        stderr.print(f"{which} has no text (nothing was read from it)", highlight=False, markup=False)
        return
    sys.stdout.write(found.text if found.text.endswith("\n") else found.text + "\n")


TextOption = Annotated[str | None, typer.Option(help='New value; "" clears it.')]


@app.command()
def edit(
    ctx: typer.Context,
    document_id: DocumentId,
    title: Annotated[str | None, typer.Option(help="题名.")] = None,
    date: Annotated[str | None, typer.Option(help='日期: YYYY, YYYY-MM or YYYY-MM-DD; "" clears it.')] = None,
    level: Annotated[str | None, typer.Option(help="密级: public, internal, confidential, secret, top_secret.")] = None,
    department: Annotated[list[str] | None, typer.Option(help="Access scope (repeat); replaces the scope.")] = None,
    creator: Annotated[str | None, typer.Option(help='责任者; "" clears it.')] = None,
    document_number: Annotated[str | None, typer.Option("--number", help='文号; "" clears it.')] = None,
    organisation: Annotated[str | None, typer.Option(help='机构 (responsible body); "" clears it.')] = None,
    archival_year: Annotated[str | None, typer.Option("--year", help='归档年度, e.g. 2021; "" clears it.')] = None,
    keywords: Annotated[str | None, typer.Option(help="关键词, separated by ；;,、 (replaces them).")] = None,
    description: TextOption = None,
    subject: TextOption = None,
    publisher: TextOption = None,
    contributor: TextOption = None,
    dc_type: Annotated[str | None, typer.Option("--type", help="Dublin Core type (default Text).")] = None,
    coverage: TextOption = None,
    rights: TextOption = None,
    relation: TextOption = None,
    source: Annotated[str | None, typer.Option(help='Dublin Core source; "" clears it.')] = None,
    field: Annotated[
        list[str] | None, typer.Option(help="A custom field of the series: name=value (repeat; name= clears).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Edit a record's metadata: title, date, level, scope, 责任者, 文号, 机构, 归档年度, 关键词, Dublin Core and
    the series' custom fields (--field name=value sets one, name= removes it, the others are kept)."""
    from api.records.documents import update_document
    from archive.catalogue.metadata import MetadataEdit

    context, actor = open_context(ctx), acting_user(ctx)
    custom = _field_values(field) if field else None
    edit_of = MetadataEdit(
        creator=creator,
        document_number=document_number,
        organisation=organisation,
        archival_year=archival_year,
        keywords=keywords,
        description=description,
        subject=subject,
        publisher=publisher,
        contributor=contributor,
        dc_type=dc_type,
        coverage=coverage,
        rights=rights,
        relation=relation,
        dc_source=source,
        custom_fields=custom,
    )
    view = update_document(
        context, actor, document_id, title=title, date=date, level=level, departments=department, metadata=edit_of
    )
    if json_out:
        emit_json(view)
    else:
        print_document(view)


def _field_values(pairs: list[str]) -> dict[str, str | int | None]:
    values: dict[str, str | int | None] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"--field takes name=value, not {pair!r}")
        values[name.strip()] = value.strip() or None
    return values


@app.command()
def withdraw(
    ctx: typer.Context,
    document_id: DocumentId,
    reason: Annotated[str, typer.Option(help="Why (disposal decision, mistaken ingest, ...); goes into the log.")],
    json_out: JsonOption = False,
) -> None:
    """Withdraw a record: out of search immediately, 'not found' to all but admins; files and history are kept."""
    from api.records.documents import withdraw_document

    result = withdraw_document(open_context(ctx), acting_user(ctx), document_id, reason=reason)
    if json_out:
        emit_json(result)
        return
    say(f"withdrew {result.reference_code} ({result.title})")


@app.command()
def history(ctx: typer.Context, document_id: DocumentId, json_out: JsonOption = False) -> None:
    """A record's preservation events, oldest first (PREMIS event types): ingestion, digests, accession, fixity
    checks, replications to backup targets, metadata changes, page replacements."""
    from api.records.history import document_history

    view = document_history(open_context(ctx), acting_user(ctx), document_id)
    if json_out:
        emit_json(view)
        return
    say(f"{view.reference_code}: {len(view.events)} event(s)")
    for event in view.events:
        subject = event.object_key or "the record"
        facts = ", ".join(f"{name} {value}" for name, value in event.detail.items() if value not in (None, "", []))
        say(f"  {event.at:%Y-%m-%d %H:%M:%S}  {event.event_type} ({event.outcome}) by {event.agent}: {subject}")
        if facts:
            say(f"      {facts}")


def print_document(view: DocumentView) -> None:
    say(f"{view.reference_code}  {view.title}")
    date = f"{view.date} (to the {view.date_precision})" if view.date else "undated"
    say(f"  id {view.id}, fonds {view.fonds}, batch {view.batch_id or 'none'}, status {view.status}")
    say(f"  level {view.access_level or 'not set'}, departments {', '.join(view.departments) or 'none'}")
    say(f"  date {date}, language {view.language}, received as {view.original_filename} at {view.created_at}")
    print_metadata(view)
    say(f"  {view.page_count} page(s); text: dangan document text {view.id} [--page N]")
    for page in view.pages:
        print_page(page)
    for stored in view.objects:
        say(f"  file {stored.role}: {stored.media_type}, {stored.size:,} bytes, sha256 {stored.sha256}")


def print_metadata(view: DocumentView) -> None:
    meta = view.metadata
    shown = {
        "责任者 creator": meta.creator,
        "文号 number": meta.document_number,
        "机构 organisation": meta.organisation,
        "归档年度 archival year": meta.archival_year,
        "关键词 keywords": "；".join(meta.keywords),
        "保管期限 retention": meta.retention,
        "description": meta.description,
        "subject": meta.subject,
        "publisher": meta.publisher,
        "contributor": meta.contributor,
        "type": meta.dc_type,
        "coverage": meta.coverage,
        "rights": meta.rights,
        "relation": meta.relation,
        "source": meta.dc_source,
    } | {f"{name} (custom)": value for name, value in meta.custom_fields.items()}
    for label, value in shown.items():
        if value not in (None, ""):
            say(f"  {label}: {value}")


def print_page(page: PageView) -> None:
    dpi = f"{page.dpi:g} dpi" if page.dpi else "dpi unknown"
    confidence = f"OCR confidence {page.ocr_confidence:.0f}" if page.ocr_confidence is not None else "no OCR"
    say(
        f"  page {page.number}: {page.width_px}×{page.height_px} px, {dpi}, {confidence}, "
        f"text from {page.text_source}, {page.characters} characters"
    )
    if not page.findings:
        say("    no quality findings")
    for finding in page.findings:
        say(
            f"    {finding.severity} {finding.check}: {finding.message} "
            f"(measured {finding.measured:g}, threshold {finding.threshold:g})"
        )
