"""Fast tests of the domain, services with fakes and actions with a Tracker: may import anything, start no server."""
