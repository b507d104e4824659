# lakegate: one image for every role; the command picks it. Build with the docker image format
# (`docker build`, or `buildah bud --format docker`): the OCI format has no HEALTHCHECK.
#   web (+ its scheduler):  lakegate up --workers 0      (the default command)
#   worker:                 lakegate worker --concurrency 2
#   scheduler:              lakegate scheduler
#   one-off commands:       lakegate convert data.csv -o out/, lakegate init /srv/lakegate --demo, ...
# The project (lakegate.yaml) is /srv/lakegate: mount yours there, or create one with `init`.
#
# PYTHON_IMAGE must be a Debian image with Python 3.11 on PATH as python3.11 (the default is
# the official slim image); build and run stages use the same one, so the virtualenv's
# interpreter path is valid in both.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# uv from PyPI (pinned to the version that wrote uv.lock), in a throwaway venv of this stage.
ARG UV_VERSION=0.13.10
# UV_SYSTEM_CERTS: trust the system's CA store, where a company's TLS proxy adds its certificate.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_SYSTEM_CERTS=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3.11 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
# Dependencies first (their own layer: rebuilt only when the lock changes), then the project.
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project --no-cache
COPY src ./src
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-editable --no-cache

FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: LightGBM's OpenMP runtime (the slim image does not ship it). Debian's point
# releases move the exact version, so it is not pinned: the base image tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 lakegate \
    && useradd --uid 10001 --gid lakegate --no-create-home --home-dir /srv/lakegate \
        --shell /usr/sbin/nologin lakegate \
    && mkdir -p /srv/lakegate \
    && chown lakegate:lakegate /srv/lakegate
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LAKEGATE_PROJECT_DIR=/srv/lakegate \
    LAKEGATE_WEB__HOST=0.0.0.0 \
    LAKEGATE_WEB__PORT=8000
# Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
WORKDIR /srv/lakegate
EXPOSE 8000
# /healthz answers 503 when the database, queue or disk is down; urlopen raises on it.
# Worker and scheduler containers have no HTTP server: compose.yaml turns this off for them.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('LAKEGATE_WEB__PORT', '8000') + '/healthz', timeout=4)"]
ENTRYPOINT ["lakegate"]
CMD ["up", "--workers", "0"]
