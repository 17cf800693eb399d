# The identity service: gunicorn serving identity:create_app() with config/gunicorn.conf.py.
#   docker build -t identity .
#   docker run -e IDENTITY_DATABASE_URL=postgresql+psycopg://... -e IDENTITY_ROOT_KEY_FILE=/run/secrets/root.keys \
#              -v /path/to/root.keys:/run/secrets/root.keys:ro -p 8000:8000 identity
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    IDENTITY_INSTANCE_PATH=/var/lib/identity \
    IDENTITY_BIND=0.0.0.0:8000

WORKDIR /app
RUN groupadd --system identity && useradd --system --gid identity --home-dir /var/lib/identity identity \
    && mkdir -p /var/lib/identity && chown identity:identity /var/lib/identity

# Dependencies first, pinned, so code changes do not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
COPY identity ./identity
RUN pip install -c constraints.txt .
COPY config ./config

USER identity
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# The same two commands the README gives for production: migrate, then serve.
CMD ["sh", "-c", "identity-admin db upgrade && exec gunicorn -c config/gunicorn.conf.py 'identity:create_app()'"]
