"""Reports for the people who act on findings: the coordinator, the investigator and the governors.

Every report is computed from the workspace (events, findings, the incident
register) and written owner-only (``files``); HTML comes from autoescaping
Jinja2 templates (``templates``) with charts embedded as PNG (``charts``).
"""
