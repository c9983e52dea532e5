# The BFF image. Stateless; configure it entirely through the environment (.env.example).
# Not built in CI (no Docker engine there): tests/unit/test_image.py checks that it carries
# every file the app reads.

# The reference SPA (spa/): its API types are generated from the app's OpenAPI document, so this
# stage has the app's Python dependencies as well as Node (20, as `make` uses; Vite 8 needs it).
FROM node:20-bookworm-slim AS spa
WORKDIR /build
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock pyproject.toml ./
RUN python3 -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.lock
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY app ./app
COPY convex/*.json ./convex/
COPY devtools ./devtools
COPY spa ./spa
RUN /venv/bin/python -m devtools.spa_schema && npx vite build spa --logLevel warn

FROM python:3.11-slim
WORKDIR /srv
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY app ./app
# The one-source JSON files the app reads at start-up (capabilities, error codes, limits).
COPY convex/*.json ./convex/
COPY --from=spa /build/spa/dist ./spa/dist
# nobody:nogroup by number: Kubernetes' runAsNonRoot can verify a numeric user, not a name
# (deploy/deployment.yaml sets the same 65534 explicitly).
USER 65534:65534
# Every interface inside the container (the app's own default is 127.0.0.1).
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
# uvicorn inside, one process, with the graceful stop of app/serve.py (SHUTDOWN_DRAIN_S,
# SHUTDOWN_TIMEOUT_S); forwarded headers are trusted from FORWARDED_ALLOW_IPS only.
CMD ["python", "-m", "app.serve"]
