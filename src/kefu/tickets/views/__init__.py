"""Ticket pages: the attachment download, the agent's view lists, the ticket page, new tickets.

One module per screen; urls.py wires them.
"""
