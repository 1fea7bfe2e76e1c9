"""The one permission table: which roles may do what. Every use case asks here, never an adapter.

What a user may *do* is their roles (this table, 403 when refused); what they may *see* is their clearance,
departments and the record's workflow state (`archive.access`, 404 when hidden). A few rows of this table
are visibility capabilities (`SEE_*`), read by the access policy rather than by a use case.

三员分立 (separation of duties for classified-information systems): the system administrator, the security
administrator and the security auditor (the `compliance` role) are three roles no account combines; nobody
changes their own roles or clearance, nor grants a clearance above their own (`check_account_change`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from archive.errors import InvalidInput, PermissionDenied
from archive.values import AccessLevel, Role


class Action(enum.StrEnum):
    """Every use case that needs a role, by name. Values are stable: they appear in messages and tests."""

    # records
    READ_RECORD = "record.read"  # metadata, files, pages, search, browse (within what the caller may see)
    EDIT_RECORD = "record.edit"  # title, date, level, departments
    WITHDRAW_RECORD = "record.withdraw"
    EXPORT_RECORDS = "record.export"  # BagIt packages
    READ_HISTORY = "record.history"  # a record's preservation events (archive.history), within what the caller sees
    # ingest and the archivist's workflow
    INGEST = "ingest.submit"  # create batches, upload or ingest files, watch folders
    READ_WORK = "work.read"  # jobs, batches, batch reports, samples (only what the caller may see)
    RETRY_JOBS = "job.retry"  # put failed, retrying or stuck jobs back in the queue (only jobs the caller may see)
    RUN_JOBS = "job.run"  # run the queued jobs in the caller's own process (`dangan jobs run`)
    REVIEW_PAGE = "page.review"  # accept, reject or replace pages held by the quality gate
    ACCEPTANCE = "batch.acceptance"  # draw samples, record verdicts, decide
    FILE_BATCH = "batch.file"
    REOPEN_BATCH = "batch.reopen"
    CHANGE_REF_TEMPLATE = "fonds.template"
    # scanning devices (扫描设备): the register and its maintenance log (calibrations, services, repairs, checks)
    READ_DEVICES = "device.read"
    MANAGE_DEVICES = "device.manage"  # register, retire, log maintenance
    DEFINE_FIELDS = "series.fields"  # custom descriptive fields of a series (read by everyone who edits or files)
    # retention and disposition
    READ_RETENTION = "retention.read"  # due lists, dispositions, holds, certificates (only records one may see)
    APPRAISE = "retention.appraise"  # record a decision on a due record: keep / destroy / transfer
    PROPOSE_DISPOSITION = "disposition.propose"
    APPROVE_DISPOSITION = "disposition.approve"  # never the proposer (the two-person rule: archive/workflow.py)
    EXECUTE_DISPOSITION = "disposition.execute"  # destroy or transfer an approved disposition's records
    LEGAL_HOLD = "retention.hold"  # set or lift a legal hold, with a reason
    # system administration
    RUN_BACKUP = "backup.run"  # backups, restore drills, backup targets
    REPAIR_OBJECTS = "object.repair"  # put back missing or changed primary objects from a backup
    RESTORE_SYSTEM = "system.restore"  # rebuild the whole system from a backup (CLI only: nothing runs yet)
    READ_BACKUPS = "backup.read"
    RUN_VERIFICATION = "verify.run"
    READ_VERIFICATION = "verify.read"
    RUN_DAT70 = "dat70.run"  # DA/T 70 four-property checks of a batch or a document, and their stored reports
    REBUILD_INDEX = "index.rebuild"
    MANAGE_KEYS = "keys.manage"  # master keys of encryption at rest: status, rotate, recover, encrypt pending
    READ_STATUS = "system.status"  # free space of the data disks against the reserve (`dangan status`)
    SEAL_AUDIT = "audit.seal"  # write a signed checkpoint of the log now
    # security administration
    MANAGE_USERS = "user.manage"
    READ_USERS = "user.read"
    # security audit
    READ_AUDIT = "audit.read"
    EXPORT_AUDIT = "audit.export"
    VERIFY_AUDIT = "audit.verify"
    PRUNE_AUDIT = "audit.prune"
    COMPLIANCE_REPORT = "compliance.report"  # the periodic report: log verification, alerts, fixity, drills
    # visibility capabilities (read by archive.access)
    SEE_UNFILED = "record.see_unfiled"  # items whose batch is not filed yet, held and rejected pages
    SEE_UNLEVELLED = "record.see_unlevelled"  # default deny: records with no level, for repair
    SEE_ALL_DEPARTMENTS = "record.see_all_departments"
    SEE_WITHDRAWN = "record.see_withdrawn"


A, S, C, SYS, SEC = Role.ARCHIVIST, Role.STAFF, Role.COMPLIANCE, Role.SYSADMIN, Role.SECADMIN

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.READ_RECORD: frozenset({A, S, C, SYS}),
    Action.EDIT_RECORD: frozenset({A, SYS}),
    Action.WITHDRAW_RECORD: frozenset({SYS}),
    Action.EXPORT_RECORDS: frozenset({A, SYS}),
    Action.READ_HISTORY: frozenset({A, C, SYS}),
    Action.INGEST: frozenset({A}),
    Action.READ_WORK: frozenset({A, SYS}),
    Action.RETRY_JOBS: frozenset({A, SYS}),
    Action.RUN_JOBS: frozenset({A, SYS}),
    Action.REVIEW_PAGE: frozenset({A}),
    Action.ACCEPTANCE: frozenset({A}),
    Action.FILE_BATCH: frozenset({A}),
    Action.REOPEN_BATCH: frozenset({A}),
    Action.CHANGE_REF_TEMPLATE: frozenset({A}),
    Action.READ_DEVICES: frozenset({A, SYS}),
    Action.MANAGE_DEVICES: frozenset({A, SYS}),
    Action.DEFINE_FIELDS: frozenset({A}),
    Action.READ_RETENTION: frozenset({A, S, C, SYS}),
    Action.APPRAISE: frozenset({A}),
    Action.PROPOSE_DISPOSITION: frozenset({A}),
    Action.APPROVE_DISPOSITION: frozenset({A}),
    Action.EXECUTE_DISPOSITION: frozenset({A, SYS}),
    Action.LEGAL_HOLD: frozenset({A, C}),
    Action.RUN_BACKUP: frozenset({SYS}),
    Action.REPAIR_OBJECTS: frozenset({SYS}),
    Action.RESTORE_SYSTEM: frozenset({SYS}),
    Action.READ_BACKUPS: frozenset({SYS}),
    Action.RUN_VERIFICATION: frozenset({SYS}),
    Action.READ_VERIFICATION: frozenset({SYS, C}),
    Action.RUN_DAT70: frozenset({A, SYS}),
    Action.REBUILD_INDEX: frozenset({SYS}),
    Action.MANAGE_KEYS: frozenset({SYS}),
    Action.READ_STATUS: frozenset({SYS, A}),
    Action.SEAL_AUDIT: frozenset({SYS, C}),
    Action.MANAGE_USERS: frozenset({SEC}),
    Action.READ_USERS: frozenset({SEC, C}),
    Action.READ_AUDIT: frozenset({C}),
    Action.COMPLIANCE_REPORT: frozenset({C}),
    Action.EXPORT_AUDIT: frozenset({C}),
    Action.VERIFY_AUDIT: frozenset({C, SYS}),
    Action.PRUNE_AUDIT: frozenset({C}),
    Action.SEE_UNFILED: frozenset({A, SYS}),
    Action.SEE_UNLEVELLED: frozenset({SYS}),
    Action.SEE_ALL_DEPARTMENTS: frozenset({SYS}),
    Action.SEE_WITHDRAWN: frozenset({SYS}),
}

# The three duties no account combines.
OFFICER_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.COMPLIANCE})

ROLE_TITLES = {
    Role.ARCHIVIST: "archivist",
    Role.STAFF: "staff",
    Role.COMPLIANCE: "security auditor",
    Role.SYSADMIN: "system administrator",
    Role.SECADMIN: "security administrator",
}


def allowed(roles: Iterable[Role], action: Action) -> bool:
    return bool(PERMISSIONS[action].intersection(roles))


def authorize(roles: Iterable[Role], action: Action) -> None:
    """Refuse (403) unless one of the roles may do the action; the message names who may."""
    if not allowed(roles, action):
        who = " or ".join(ROLE_TITLES[role] for role in sorted(PERMISSIONS[action]))
        raise PermissionDenied(f"{action.value} needs the {who} role")


def check_separation(roles: Iterable[Role]) -> None:
    """No account holds two of the three officer roles."""
    officers = sorted(OFFICER_ROLES.intersection(roles))
    if len(officers) > 1:
        names = " and ".join(ROLE_TITLES[role] for role in officers)
        raise InvalidInput(
            f"one account cannot be both {names} (三员分立: give each duty to a different person)",
            InvalidInput.DUTIES_COMBINED,
        )


def check_account_change(
    *,
    actor: str,
    actor_clearance: AccessLevel,
    target: str,
    roles: Iterable[Role] | None = None,
    clearance: AccessLevel | None = None,
    departments_changed: bool = False,
) -> None:
    """The rules of a security administrator's change to an account (creating one included)."""
    if actor == target and (roles is not None or clearance is not None or departments_changed):
        raise PermissionDenied(
            "nobody changes their own roles, clearance or departments; ask another administrator",
            PermissionDenied.OWN_ACCOUNT,
        )
    if clearance is not None and clearance > actor_clearance:
        raise PermissionDenied(
            f"you cannot grant a clearance above your own ({actor_clearance.label})",
            PermissionDenied.CLEARANCE_ABOVE_OWN,
        )
    if roles is not None:
        check_separation(roles)
