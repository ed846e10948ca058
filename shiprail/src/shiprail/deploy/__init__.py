"""Releases on a host: environments, blue/green switches, approvals, rollback and the ledger."""
