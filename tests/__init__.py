"""Recovery Desk's tests and their fixtures (conftest.py): may import anything in the repository."""
