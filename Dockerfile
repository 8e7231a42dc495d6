# syntax=docker/dockerfile:1
# One image for the three programs of JCode Watcher (see README.md, "Deploying"):
#   python -m watcher serve      the service, one per class (the default command)
#   python -m watcher gateway    the gateway in front of every class's service
#   python -m watcher_operator   the Kubernetes operator
#
#   docker build -t ghcr.io/jcode-watcher/jcode-watcher:0.1.0 .
#
# No Docker engine runs in CI: tests/deploy/test_image.py lints this file with hadolint and runs
# the builder stage's RUN steps as they are written (wheel, clean venv, install with
# -c constraints.txt), then the service's smoke test against that install. Keep those steps plain
# POSIX shell and their paths in the VENV and WHEELS variables.

ARG PYTHON_IMAGE=python:3.11.14-slim-trixie

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VENV=/opt/venv \
    WHEELS=/tmp/wheels
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY service/ service/
COPY operator/ operator/
# The wheel of the project alone, then it and its whole pinned dependency tree into a fresh venv.
# Everything comes as a binary wheel: no compiler is needed, here or in the runtime stage.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m venv "$VENV" \
    && "$VENV/bin/pip" wheel --no-deps --wheel-dir "$WHEELS" . \
    && "$VENV/bin/pip" install --constraint constraints.txt "$WHEELS"/*.whl \
    && "$VENV/bin/pip" check

FROM ${PYTHON_IMAGE} AS runtime
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="jcode-watcher" \
      org.opencontainers.image.description="JCode Watcher: the service, its gateway and its Kubernetes operator" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/jcode-watcher/jcode-watcher" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.14-slim-trixie" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# A numeric, unprivileged user (the chart and the operator run the pods as 10001:10001 too), and
# /data owned by it: a new named volume takes this directory's ownership.
RUN groupadd --gid 10001 watcher \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin watcher \
    && install -d -o 10001 -g 10001 -m 0750 /data
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WATCHER_DB_PATH=/data/watcher.db
# An empty working directory: the service reads a .env from it if one is mounted there.
WORKDIR /app
VOLUME /data
USER 10001:10001
EXPOSE 3000
# No HEALTHCHECK: the image runs three programs and only the service answers on :3000. compose.yaml
# and the Kubernetes probes check the program they run.
CMD ["python", "-m", "watcher", "serve"]
