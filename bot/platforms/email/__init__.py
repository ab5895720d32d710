"""Email, for the escalation ladder only: through the school's own mail server (SMTP)."""
