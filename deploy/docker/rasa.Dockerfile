# The Rasa server with Recovery Desk's channels and stores (bot/), the trained model and the
# production endpoints. Build from the repository root, after `make train`:
#   docker build -f deploy/docker/rasa.Dockerfile -t recoverydesk-rasa:0.1.0 .
FROM rasa/rasa:3.6.21

USER root
WORKDIR /app
# Hash-checked runtime dependencies; the ones the base image already has at these versions stay.
COPY requirements.lock /app/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /app/requirements.lock
COPY pyproject.toml README.md LICENSE /app/
COPY recoverydesk /app/recoverydesk
COPY bot /app/bot
COPY actions /app/actions
COPY helpdesk_plugin /app/helpdesk_plugin
# Editable, as `make` installs it: the code finds domain.yml next to it (recoverydesk.settings.ROOT = /app).
RUN pip install --no-cache-dir --no-deps -e /app
COPY domain.yml config.yml credentials.yml /app/
COPY deploy/endpoints.yml /app/deploy/endpoints.yml
COPY models /app/models
RUN chown -R 1001:0 /app
USER 1001

EXPOSE 5005
# RASA_TOKEN is required: Rasa's HTTP API is never open without it (S2S-2).
ENTRYPOINT []
CMD ["sh", "-c", "exec rasa run --model /app/models --enable-api --auth-token \"${RASA_TOKEN:?RASA_TOKEN is required}\" --port \"${RASA_PORT:-5005}\" --endpoints /app/deploy/endpoints.yml --credentials /app/credentials.yml"]
