# The server image: `docker compose up` runs it with PostgreSQL and Redis (compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MEETING_DATA_DIR=/data
WORKDIR /app

# LibreOffice (no GUI) converts Office uploads to PDF; Noto and DejaVu cover Vietnamese.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
        fonts-noto-core fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
# pg_dump and pg_restore for `meeting backup` / `meeting restore` on PostgreSQL, of compose.yaml's
# PostgreSQL major version (16; pg_dump refuses a server newer than itself, and Debian 12 ships 15):
# from the PostgreSQL project's own Debian repository.
ARG POSTGRES_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl --fail -sSo /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${POSTGRES_MAJOR}" \
    && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY meeting ./meeting
COPY web ./web
RUN pip install --no-cache-dir . \
    && useradd --system --home /data meeting \
    && mkdir -p /data && chown meeting /data

USER meeting
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["meeting", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
