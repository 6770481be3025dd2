# waitcast: the HTTP API and the citizens' page (WAITCAST_WORKERS uvicorn workers, default 1).
#
#   docker build -t waitcast .
#   docker run -p 8000:8000 -e WAITCAST_ADMIN_TOKEN="$(openssl rand -hex 24)" \
#       -e WAITCAST_WORKERS=2 -v "$PWD/.waitcast:/data" waitcast
#
# /data holds the model registry (/data/registry) and, beside it, the state store
# (/data/registry-state.sqlite3: queue states, partner keys, rate limits), so mount the
# folder, not the registry alone; or set WAITCAST_STATE_URL=redis://HOST:PORT/DB. The
# server starts without a model (readiness answers 503) and loads one as soon as the
# registry has a current version.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY features ./features
COPY models ./models
COPY store ./store
COPY training ./training
COPY serving ./serving
COPY cli ./cli
RUN pip install --no-cache-dir . \
    && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim-bookworm AS runtime
# LightGBM needs the OpenMP runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1=12.2.0-14+deb12u1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 waitcast \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin waitcast \
    && mkdir -p /data/registry \
    && chown 10001:10001 /data /data/registry
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WAITCAST_REGISTRY=/data/registry
WORKDIR /data
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"]
CMD ["waitcast", "serve", "--host", "0.0.0.0"]
