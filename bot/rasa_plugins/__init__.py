"""Rasa's storage adapters and components: may import rasa and recoverydesk (adapters too), no other face."""
