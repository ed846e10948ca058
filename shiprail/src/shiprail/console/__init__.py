"""The web console (``shiprail console``): releases, approvals, findings and DORA figures in a
browser, with accounts, roles and four-eyes approvals. Server-rendered (FastAPI + Jinja), with
htmx served from the package for live updates; nothing is fetched from elsewhere.
"""
