"""The Celery worker and beat: ``celery -A worker worker`` / ``celery -A worker beat``."""

from celery.signals import setup_logging

from shared.error_reports import report_worker_errors
from shared.logs import configure_logging
from shared.queues import make_celery
from shared.settings import load_settings_or_exit
from worker.schedule import beat_schedule

settings = load_settings_or_exit()
report_worker_errors(settings)  # before any task runs; forked processes inherit it
celery_app = make_celery(settings)
celery_app.set_default()  # tasks sent from the pump's threads use this app too
celery_app.conf.beat_schedule = beat_schedule(settings)
celery_app.conf.worker_redirect_stdouts = False


@setup_logging.connect
def log_in_our_format(loglevel=None, **_):
    """Worker and beat log in the one format of :mod:`shared.logs`, at ``--loglevel``."""
    configure_logging(loglevel or settings.log_level, settings.log_format)


import worker.publish  # noqa: E402,F401  (registers the tasks)
import worker.subscriptions  # noqa: E402,F401
import worker.viewer_counts  # noqa: E402,F401
from worker.bootstep import PumpStep  # noqa: E402

celery_app.steps["worker"].add(PumpStep)

app = celery_app
