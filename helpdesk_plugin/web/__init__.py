"""The helpdesk's routes and pages: may import sanic, helpdesk_plugin, recoverydesk.services/.domain/.settings."""
