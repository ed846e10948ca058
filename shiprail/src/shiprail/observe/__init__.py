"""Observability: SLOs as code, the SLO report, dashboards checks and the incident drill."""
