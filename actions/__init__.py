"""What the bot can do: rasa_sdk custom actions that call recoverydesk.services and turn each
outcome into responses and events. May import rasa_sdk, recoverydesk.services, recoverydesk.domain
and recoverydesk.settings; never recoverydesk.adapters, bot or helpdesk_plugin."""
