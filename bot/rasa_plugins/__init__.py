"""Rasa's storage adapters and components: may import rasa and recoverydesk (adapters too), no other face."""

# Every Rasa process imports this package (config.yml's EmailReplyClassifier, endpoints' stores
# and broker), so this is where the Rasa patches are switched on, explicitly and once.
from bot.rasa_plugins.patches import install
from recoverydesk import logs, settings

install()
logs.attach(settings.load().log_format)  # Rasa keeps its own log lines; ours are JSON (or LOG_FORMAT=console)
