"""The catalogue's rules: manifests, reference codes and numbering, duplicate claims, reconciliation, sampling."""
