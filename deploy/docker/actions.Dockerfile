# The action server (rasa_sdk) with Recovery Desk's custom actions and core. Build from the
# repository root: docker build -f deploy/docker/actions.Dockerfile -t recoverydesk-actions:0.1.0 .
# It listens on 127.0.0.1 (ACTIONS_HOST): run it next to Rasa, in the same pod or network namespace.
FROM rasa/rasa-sdk:3.6.2

USER root
WORKDIR /app
# The core the actions call imports Rasa's packages too (rasa is pinned in the lock), so the whole
# hash-checked runtime lock is installed.
COPY requirements.lock /app/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /app/requirements.lock
COPY pyproject.toml README.md LICENSE /app/
COPY recoverydesk /app/recoverydesk
COPY bot /app/bot
COPY actions /app/actions
COPY helpdesk_plugin /app/helpdesk_plugin
# Editable, as `make` installs it: the code finds domain.yml next to it (recoverydesk.settings.ROOT = /app).
RUN pip install --no-cache-dir --no-deps -e /app
COPY domain.yml /app/
RUN chown -R 1001:0 /app
USER 1001

EXPOSE 5055
ENTRYPOINT []
CMD ["python", "-m", "actions.server", "--port", "5055"]
