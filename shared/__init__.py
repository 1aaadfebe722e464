"""Code used by both the web process and the Celery workers."""
