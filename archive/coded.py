"""Lines for a person that the web page says in its own language: a stable code, the values its text names, and
the English sentence for the log and the command line.

Each family of lines is one `Vocabulary`: the catalogue prefix its texts live under in the web application's
catalogues (`<prefix>.<code>`, api/http/static/i18n/<language>/<file>.json, the file being the prefix's first
part) and, for each code, the names of the params it carries — exactly those, so that a test can check that
every catalogue text names each of them and nothing else. The vocabularies are declared here, together, like
the finding codes (archive/finding_codes.py) and the refusals' reasons (archive/errors.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archive.errors import ParamValue


@dataclass(frozen=True)
class Coded:
    """One line: its code within its vocabulary, the values the page's text is filled from, and the English."""

    code: str
    message: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "message": self.message}


@dataclass(frozen=True)
class Vocabulary:
    """The codes of one family of lines and the params each carries; `prefix` is their catalogue keys' start."""

    prefix: str
    codes: Mapping[str, tuple[str, ...]]

    def line(self, code: str, message: str, **params: ParamValue) -> Coded:
        """The line `code` with its English and its params; a ValueError for an unknown code or other params."""
        if code not in self.codes:
            raise ValueError(f"{self.prefix}: {code!r} is not one of its codes")
        if set(params) != set(self.codes[code]):
            raise ValueError(f"{self.prefix}.{code} carries {sorted(self.codes[code])}, not {sorted(params)}")
        return Coded(code, message, params)


# The status screen's warnings (api/preservation/status.py, storage_config/space.py). `places` are place names of
# storage_config.space joined by ", " (the page says each in its words); sizes are in bytes.
STATUS_WARNINGS = Vocabulary(
    "status.warning",
    {
        "disk_low": ("places", "free_bytes", "reserve_bytes"),
        "disk_refusing": ("places", "free_bytes", "reserve_bytes"),
        "jobs_need_attention": ("stuck", "failed"),
        "index_unavailable": ("problem",),
        "calibration_overdue": ("count", "devices"),
        "master_key_warning": ("problem",),  # encryption at rest: a keyring missing, a key in no escrow yet
    },
)

# Why an acceptance sample returned its batch for rescan (archive/catalogue/sampling.py); rates are fractions.
ACCEPTANCE_REASONS = Vocabulary(
    "batch.reason",
    {
        "pass_rate_low": ("pass_rate", "required"),
        "critical_defects": ("count",),
    },
)

# What an archivist must know of a scanning device before scanning with it (api/ingest/devices.py): on the device
# list and on each batch that names it; `due` is a day (YYYY-MM-DD).
DEVICE_WARNINGS = Vocabulary(
    "batch.device_warning",
    {
        "retired": ("device",),
        "calibration_overdue": ("device", "due"),
        "never_calibrated": ("device",),
    },
)

VOCABULARIES = (STATUS_WARNINGS, ACCEPTANCE_REASONS, DEVICE_WARNINGS)
