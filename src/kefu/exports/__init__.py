"""Incremental exports (Zendesk's ``incremental/*``): everything that changed since a moment.

Not a Django app — no tables of its own; it reads tickets, people, organizations and audits.
See ``incremental.py`` and docs/exports.md.
"""
