"""`make bench`: the Recovery Desk performance benchmark (run as `python -m bench`)."""
