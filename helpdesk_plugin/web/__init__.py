"""The helpdesk plugin's web modules: route tables over recoverydesk.services (never adapters)."""
