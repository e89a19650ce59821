"""The helpdesk plugin's web modules: route tables and pages over recoverydesk.services.

May import sanic, helpdesk_plugin, recoverydesk.services, .domain and .settings; never adapters."""
