"""Each adapter against the real service (Redis, SMTP, the helpdesk app): may import anything."""
