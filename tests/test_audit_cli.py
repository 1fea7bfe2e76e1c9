"""`dangan audit verify`: an intact log verifies; an edited event is named and the exit code is 9."""

from __future__ import annotations

from sqlalchemy import text

from archive.errors import IntegrityFailure
from tests.conftest import Cli


def test_verify_checkpoint_and_tamper_through_the_cli(cli: Cli) -> None:
    assert cli("init").exit_code == 0
    for n in range(3):
        assert cli("batch", "create", "--fonds", f"T{n}", "--lang", "eng").exit_code == 0
    sealed = cli("--user", "auditor", "audit", "checkpoint", "--json")
    assert sealed.exit_code == 0 and sealed.json["sequence"] == 1
    intact = cli("--user", "auditor", "audit", "verify", "--json")
    assert intact.exit_code == 0 and intact.json["ok"] is True
    assert intact.json["checkpoints_checked"] == 1

    from tests.conftest import make_context

    context = make_context(cli.home)
    with context.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_event SET actor = 'mallory' WHERE action = 'batch.create' AND target = 'batch:2'")
        )
        bad_id = connection.execute(text("SELECT id FROM audit_event WHERE target = 'batch:2'")).scalar_one()
    context.close()
    tampered = cli("--user", "auditor", "audit", "verify", "--json")
    assert tampered.exit_code == IntegrityFailure.exit_code
    assert tampered.json["ok"] is False and tampered.json["first_bad_event_id"] == bad_id
    assert "edited" in {finding["kind"] for finding in tampered.json["findings"]}
    text_out = cli("--user", "auditor", "audit", "verify")
    assert "TAMPERED" in text_out.stdout and f"event {bad_id}" in text_out.stdout
