# The bot as a small image: python:3.11-slim, only the runtime dependencies, a non-root user.
# Build from the repository root: docker build -t ballerina-bot .
# Configuration comes from the environment (see .env.example); deploy/docker-compose.yml runs
# PostgreSQL and two bot processes on two shard ranges.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
# Wheels of the bot and of its runtime dependencies only (no dev extra: no tests, linters, pgserver).
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FILM_FILE=/app/data/ballerina.toml \
    DATABASE_PATH=/data/ballerina.sqlite3 \
    METRICS_PORT=8080
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ballerina \
    && mkdir -p /data \
    && chown ballerina /data
COPY data/ballerina.toml /app/data/ballerina.toml
USER ballerina
WORKDIR /app
# The SQLite file when DATABASE_URL is not set.
VOLUME /data
# slim has no curl: the check is Python's own urllib (an HTTP error such as /healthz's 503 exits 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['METRICS_PORT'], timeout=4)"
CMD ["ballerina-bot", "run"]
