"""Channels: one folder per way customers reach Kefu (portal, email, chat, ...)."""
