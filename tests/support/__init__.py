"""Servers and helpers the tests share (Redis, SMTP, browser, fuzzing, traffic): may import anything."""
