"""People taking over: tickets, queues, agent console, live takeover, audit."""
