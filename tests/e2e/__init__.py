"""The whole stack through its HTTP API, web chat and Chromium: may import anything."""
