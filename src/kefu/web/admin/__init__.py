"""Admin settings at /agent/admin/ (admins only). Sections register in ``sections``."""
