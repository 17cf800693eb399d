# The identity service: gunicorn serving identity:create_app() with config/gunicorn.conf.py.
# The same commands as README.md, "Running in production" (identity.env holds IDENTITY_DATABASE_URL,
# IDENTITY_ROOT_KEY_FILE=/run/secrets/identity/root.keys, IDENTITY_ISSUER, ...):
#   docker build -t identity .
#   # once per release, before the new replicas start: a one-off container migrates the schema
#   docker run --rm --env-file identity.env -v /srv/identity/keys:/run/secrets/identity:ro \
#              identity identity-admin db upgrade
#   # then every replica
#   docker run -d --env-file identity.env -v /srv/identity/keys:/run/secrets/identity:ro \
#              -p 8000:8000 identity
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IDENTITY_INSTANCE_PATH=/var/lib/identity \
    IDENTITY_BIND=0.0.0.0:8000

WORKDIR /app
# A fixed uid, so the operator can give the mounted root key folder to it: `chown -R 10001 keys`
# (the service refuses a root key file that group or others can read).
RUN groupadd --system --gid 10001 identity \
    && useradd --system --uid 10001 --gid identity --home-dir /var/lib/identity identity \
    && mkdir -p /var/lib/identity && chown identity:identity /var/lib/identity && chmod 700 /var/lib/identity

# Dependencies first, without the package: the runtime requirements named in pyproject.toml at the
# exact versions of constraints.txt. This layer is rebuilt only when one of those two files changes.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the code: a change here reinstalls only the package itself. `pip check` fails the build if
# the layer above missed a dependency.
COPY README.md ./
COPY identity ./identity
RUN pip install --no-deps . && pip check
COPY config ./config

USER identity
EXPOSE 8000
# Asks /healthz on the address in IDENTITY_BIND, whatever port it names.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["python", "-m", "identity.healthcheck"]
# Serve only: migrations are a one-off command (above), never run by every start of every replica.
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "identity:create_app()"]
