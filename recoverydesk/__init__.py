"""The product's core, shared by every process: imports no face (actions, bot, helpdesk_plugin), rasa or sanic."""
