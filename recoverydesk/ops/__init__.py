"""The operator's tools (cli, stack runner, mail sink, training): may import all of recoverydesk, never a face."""
