"""The agents' face, a Sanic app over web/: may import sanic, recoverydesk.services/.domain/.settings, no face."""
