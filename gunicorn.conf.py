"""Gunicorn settings for the web process (read automatically from the working directory).

Threads keep connections alive and let one process answer while another
request waits on Redis; one process per core uses both cores.
"""

import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 5
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
control_socket_disable = True
