"""Service levels (M6): priority codes, an incident's deadlines and the escalation sweep."""
