"""Redis, SMTP and HTTP clients: may import recoverydesk.domain and .settings, never services, ops or a face."""
