"""The access log: a hash chain of events, signing keys, checkpoints, verification, queries, alerts."""
