"""`dangan run` (what `make run` calls): initialise, admin token, ingest a batch with progress, then serve."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote

from api.cli.ingesting import ingest_paths, print_ingest_summary
from api.cli.output import stdout
from api.server import serve_forever
from api.services.accounts import AccountService
from api.services.maintenance import MaintenanceService
from api.services.search import SearchService
from api.services.users import UserService
from api.wiring import Context
from archive.access import system_operator
from ingest.samples import write_sample_batch

EXAMPLE_QUERIES = ("档案管理", "retention schedule")


def run_demo(context: Context, *, batch: Path | None) -> None:
    settings = context.settings
    MaintenanceService(context).initialise()
    users = UserService(context)
    admin = users.create_admin("admin", if_missing=True)
    token = admin["token"]
    if admin["created"]:  # the search page signs in with a password: give the new admin one, shown once
        password = secrets.token_urlsafe(12)
        AccountService(context).update(actor="system", username="admin", password=password)
        token = users.issue_token("admin", label="make-run")["token"]  # a password change revokes tokens
        sign_in = f"sign in as admin with password {password} (shown once)"
    else:
        sign_in = "sign in as admin (the password printed on the first run, or: dangan users update admin --password)"
    which = "new admin" if admin["created"] else "fresh token for the existing admin"
    stdout.print(f"admin token ({which}; shown once):", highlight=False)
    stdout.print(token, highlight=False, markup=False)
    folder = batch
    if folder is None:
        folder = settings.home_dir / "sample"
        if not any(folder.glob("*.*")):
            stdout.print(f"writing sample scans to {folder}", highlight=False)
            write_sample_batch(folder)
    outcome = ingest_paths(context, [folder], resume=True)
    print_ingest_summary(outcome)
    searching = SearchService(context)
    for query in EXAMPLE_QUERIES:
        found = searching.search(system_operator(), query, limit=5)
        refs = ", ".join(f"{hit['reference_code']} p.{','.join(map(str, hit['pages']))}" for hit in found["hits"])
        stdout.print(f"search {query!r}: {found['total']} document(s) {refs}", highlight=False, markup=False)
    base = f"http://{settings.server.host}:{settings.server.port}"
    banner = (
        f"search page: {base}/ — {sign_in}\n"
        "try:\n"
        f"  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/search?q={quote(EXAMPLE_QUERIES[0])}'\n"
        f"  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/search?q=retention+schedule'\n"
        "stop with Ctrl-C"
    )
    serve_forever(context, banner=banner)
