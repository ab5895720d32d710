"""The secure web workspace where the owning team works a case (see routes.py)."""
