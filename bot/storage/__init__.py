"""Storage: sqlmodel tables, Alembic migrations and the repository the service uses."""
