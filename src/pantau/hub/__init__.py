"""The hub's side of edge agents: enrolment, authentication, ingest of synced or carried
facts, and the connectivity report (docs/edge.md)."""
