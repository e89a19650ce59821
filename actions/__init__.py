"""What the bot can do: rasa_sdk custom actions, over a plain-Python account-security core."""
