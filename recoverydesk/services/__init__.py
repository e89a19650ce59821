"""Use cases the faces call; bootstrap.py builds them: may import domain, adapters, settings; no ops or face."""
