# syntax=docker/dockerfile:1
# prescale: the in-cluster daemon, the report and the simulator in one slim, non-root image.
#   docker build -t prescale:0.1.0 .
# Stage 1 builds wheels of the project and of every dependency; stage 2 installs them from that
# directory alone (no index, no compiler) and drops pip, setuptools and wheel. tests/test_dockerfile.py
# checks these claims statically and builds the wheel from exactly the files copied below.

# The base: Python 3.11 with pip on PATH. BASE can name a local image instead (bench/image.sh
# builds one from Debian's packages where no registry of images is reachable).
ARG BASE=python:3.11-slim
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY kernel ./kernel
COPY forecaster ./forecaster
COPY planner ./planner
COPY simulator ./simulator
COPY report ./report
COPY actuator ./actuator
COPY migrations ./migrations
# The postgres extra brings the PostgreSQL driver (deploy/overlays/postgres).
RUN pip wheel --wheel-dir /wheels '.[postgres]'

FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 HOME=/tmp
# The wheels are bind-mounted from the build stage, so no layer of the image keeps them.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels 'prescale[postgres]' \
    && pip uninstall -y pip setuptools wheel \
    && mkdir -p /var/lib/prescale \
    && chown 65532:65532 /var/lib/prescale
# The store's default place (sqlite:///prescale.db is relative to it); in a cluster a volume.
WORKDIR /var/lib/prescale
# Numeric, so the kubelet can check runAsNonRoot; the same id as deploy/base's runAsUser.
USER 65532:65532
EXPOSE 8080
# No HEALTHCHECK: Kubernetes ignores it; the Deployment's probes call /healthz and /readyz.
ENTRYPOINT ["prescale"]
CMD ["--help"]
