# One image for web, worker and beat (see docker-compose.yml).

# The stylesheet and scripts: npm packages pinned by package-lock.json, built once here.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
RUN apt-get update -qq && apt-get install -y -qq make && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json Makefile ./
COPY frontend ./frontend
RUN make assets

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=earlyhelp.settings.production

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
COPY --from=assets /build/static/build ./static/build
# collectstatic needs settings to import; these throwaway values never reach a running container.
RUN DJANGO_SECRET_KEY=build-only-secret-key-build-only-secret-key-build-only \
    DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --no-input

RUN useradd --system --uid 1000 earlyhelp && chown -R earlyhelp /app
USER earlyhelp

EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "earlyhelp.wsgi:application"]
