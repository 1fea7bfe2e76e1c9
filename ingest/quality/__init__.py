"""The quality gate: measure a page (measure, analysis), judge it against a profile of thresholds (profiles, gate)."""
