"""Rasa input channels and the redaction hook: may import rasa, sanic, recoverydesk.services/.domain/.settings."""
