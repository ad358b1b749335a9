#!/bin/sh
# Gatehouse container entrypoint. The first argument selects the role:
#   web     apply migrations, then serve with gunicorn on 0.0.0.0:8000
#   worker  a Celery worker
#   beat    the Celery beat scheduler (schedule file kept in /app/var)
#   other   run the given command as is (e.g. `python manage.py shell`)
# Extra arguments after web/worker/beat are passed on to gunicorn/celery.
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
    web)
        python manage.py migrate --noinput
        # Sync workers: measured cheaper per request than gthread on every
        # read (docs/performance.md); put a buffering proxy in front.
        exec gunicorn portal.wsgi:application \
            --bind 0.0.0.0:8000 \
            --worker-class sync \
            --workers "${GUNICORN_WORKERS:-3}" \
            --access-logfile - \
            "$@"
        ;;
    worker)
        exec celery -A portal worker --loglevel=INFO "$@"
        ;;
    beat)
        exec celery -A portal beat --loglevel=INFO \
            --schedule /app/var/celerybeat-schedule "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
