"""Rules without I/O: imports only the standard library, pure libraries and recoverydesk.domain."""
