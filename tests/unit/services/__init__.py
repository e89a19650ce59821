"""Service tests with in-memory fakes: may import anything, start no server."""
