"""Conversations declared once as data, run by `engine` on every platform."""
