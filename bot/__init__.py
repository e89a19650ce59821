"""Recovery Desk: reaching customers (web chat, secure pages) and running the stack."""
