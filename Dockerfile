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
