"""The rasa_sdk actions: may import rasa_sdk and recoverydesk.services/.domain/.settings, no adapters or face."""
