# The front end is built with Node, then served by the Python image.
FROM node:20-slim AS frontend
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

# As on Heroku: the pins of requirements.txt installed, the app run from its directory.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt ./
RUN pip install -r requirements.txt && useradd --create-home app
COPY shared shared
COPY web web
COPY worker worker
COPY emulators emulators
COPY scripts scripts
COPY Procfile ./
COPY --from=frontend /app/web/dist web/dist
USER app
EXPOSE 8000
CMD ["sh", "-c", "PROMETHEUS_MULTIPROC_DIR=\"$(mktemp -d)\" exec granian --interface rsgi --factory --no-ws --log-config web/granian-logging.json --host 0.0.0.0 --port ${PORT:-8000} --workers ${WEB_CONCURRENCY:-2} --loop uvloop --http 1 --http1-header-read-timeout 10000 --backlog 4096 --backpressure 2048 web.server:create_server"]
