# schoolbot's container image: two stages, so the image holds the installed bot and its
# libraries, not pip's caches or build tools. How to build and run it: docs/operations.md.
#
# BASE is any Debian bookworm image with Python 3.11 and its venv module: the official
# python image by default; on a machine without a registry, one made with mmdebstrap.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Only where a proxy re-signs HTTPS: the path of its CA bundle, mounted into the build
# (see docs/operations.md). Used by this stage alone; the image never holds it.
ARG PIP_CERT
RUN python3 -m venv /opt/schoolbot
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN /opt/schoolbot/bin/pip install --quiet . \
 && /opt/schoolbot/bin/schoolbot --version

FROM ${BASE}
# A user of its own (no login, no root), and the data folder it alone may read: it holds
# every case and evidence file (and the SQLite database when there is no PostgreSQL).
RUN groupadd --system --gid 10001 schoolbot \
 && useradd --system --uid 10001 --gid schoolbot --home-dir /srv/schoolbot --create-home \
      --shell /usr/sbin/nologin schoolbot \
 && install -d -m 0700 -o schoolbot -g schoolbot /data
COPY --from=build /opt/schoolbot /opt/schoolbot
ENV PATH=/opt/schoolbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SCHOOLBOT_HOME=/srv/schoolbot \
    SCHOOLBOT_DATA_DIR=/data \
    SCHOOLBOT_HOST=0.0.0.0 \
    SCHOOLBOT_PORT=3978 \
    SCHOOLBOT_LOG_FORMAT=json
USER schoolbot
WORKDIR /srv/schoolbot
VOLUME ["/data"]
EXPOSE 3978
# Ready means the database takes a write (GET /readyz answers 503 when it can't).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('SCHOOLBOT_PORT', '3978'), timeout=4)"]
# SIGTERM: the bot finishes what it has acknowledged, then stops.
STOPSIGNAL SIGTERM
ENTRYPOINT ["schoolbot"]
CMD ["run"]
