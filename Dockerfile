# prescale: the in-cluster daemon, the report and the simulator in one image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY forecaster ./forecaster
COPY planner ./planner
COPY actuator ./actuator
COPY migrations ./migrations
RUN pip install . && useradd --system --uid 10001 prescale
USER 10001
ENTRYPOINT ["prescale"]
CMD ["--help"]
