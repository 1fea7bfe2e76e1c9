"""`dangan run` (what `make run` calls): initialise, admin token, ingest a batch with progress, then serve."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote

from api.access.accounts import AccountService
from api.access.users import UserService
from api.cli.ingesting import ingest_paths, print_ingest_summary
from api.cli.output import say, stdout
from api.http.server import serve_forever
from api.ingest.intake import IngestRequest
from api.preservation.maintenance import MaintenanceService
from api.search.service import SearchService
from api.wiring import Context
from archive.access import Principal
from archive.errors import AuthenticationRequired
from archive.permissions import ROLE_TITLES
from archive.values import AccessLevel, Role
from ingest.samples import write_sample_batch

EXAMPLE_QUERIES = ("档案管理", "retention schedule")


DEMO_ARCHIVIST = "archivist"
OFFICERS_NOTE = (
    "三员分立: give each of these three accounts to a different person, who chooses a new password at the first "
    "sign-in (or `dangan --user NAME users update NAME --password`); see README, 'Accounts, roles, clearances'."
)


def run_demo(context: Context, *, batch: Path | None) -> None:
    settings = context.settings
    MaintenanceService(context).initialise()
    users = UserService(context)
    officers = users.bootstrap().created  # a fresh install: the three officer accounts, each for another person
    for account in officers:
        say(f"{account.username} ({ROLE_TITLES[Role(account.role)]}): password {account.password} (shown once)")
    if officers:
        say(OFFICERS_NOTE)
    archivist, password = _demo_archivist(context)
    token = users.issue_token(archivist, DEMO_ARCHIVIST, label="make-run").token
    if password:
        sign_in = f"sign in as {DEMO_ARCHIVIST} with password {password} (shown once), then choose your own"
        which = "new archivist"
    else:
        sign_in = f"sign in as {DEMO_ARCHIVIST} (the password printed on the first run)"
        which = "fresh token for the existing archivist"
    stdout.print(f"{DEMO_ARCHIVIST} token ({which}; shown once):", highlight=False)
    stdout.print(token, highlight=False, markup=False)
    folder = batch
    if folder is None:
        folder = settings.home_dir / "sample"
        if not any(folder.glob("*.*")):
            stdout.print(f"writing sample scans to {folder}", highlight=False)
            write_sample_batch(folder)
    outcome = ingest_paths(context, IngestRequest(paths=[folder], resume=True), actor=archivist)
    print_ingest_summary(outcome)
    searching = SearchService(context)
    for query in EXAMPLE_QUERIES:
        found = searching.search(archivist, query, limit=5)
        refs = ", ".join(f"{hit.reference_code} p.{','.join(map(str, hit.pages))}" for hit in found.hits)
        stdout.print(f"search {query!r}: {found.total} document(s) {refs}", highlight=False, markup=False)
    base = f"http://{settings.server.host}:{settings.server.port}"
    banner = (
        f"web application (中文 / English): {base}/ — {sign_in}; the officers sign in with the passwords "
        "printed on the first run (and choose their own), and the security administrator creates every other "
        "account on the Users screen\n"
        "try:\n"
        f"  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/search?q={quote(EXAMPLE_QUERIES[0])}'\n"
        f"  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/search?q=retention+schedule'\n"
        "stop with Ctrl-C"
    )
    serve_forever(context, banner=banner, say=say)


def _demo_archivist(context: Context) -> tuple[Principal, str | None]:
    """The archivist who ingests the sample batch, made by the security administrator on the first run
    (with a password shown once, to be changed at the first sign-in; the printed token is an API token and
    works at once); later runs act as the same account."""
    users = UserService(context)
    try:
        return users.principal(DEMO_ARCHIVIST), None
    except AuthenticationRequired:
        pass
    password = secrets.token_urlsafe(12)
    AccountService(context).create(
        actor=users.officer(Role.SECADMIN),
        username=DEMO_ARCHIVIST,
        password=password,
        roles=[Role.ARCHIVIST.value],
        clearance=AccessLevel.SECRET.label,
        display_name="Demo archivist",
    )
    return users.principal(DEMO_ARCHIVIST), password
