"""Metrics and structured logs. Free of project imports, so every layer may record here."""
