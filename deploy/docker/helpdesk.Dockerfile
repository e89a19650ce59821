# The helpdesk plugin: ticket API, agent console, signal intake and /metrics. Build from the
# repository root: docker build -f deploy/docker/helpdesk.Dockerfile -t recoverydesk-helpdesk:0.1.0 .
FROM python:3.10.13-slim-bookworm

RUN useradd --uid 1001 --create-home recoverydesk
WORKDIR /app
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

EXPOSE 5080
# HELPDESK_HOST defaults to 127.0.0.1; a container sets 0.0.0.0 and publishes the port only where agents reach it.
CMD ["python", "-m", "helpdesk_plugin"]
