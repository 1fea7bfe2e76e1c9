"""Job runners behind one Protocol: the embedded local pool (and, later, Celery)."""
