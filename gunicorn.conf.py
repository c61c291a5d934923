"""How gunicorn serves the app: in the Docker image, in docker-compose and in the benchmarks.

``gunicorn -c gunicorn.conf.py earlyhelp.wsgi:application``; flags given after it override it.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# A process per core: more Python processes than cores only fight over them. Threads in each,
# so that while one request waits on PostgreSQL or Redis another runs; with the GIL, more
# threads than a few add switching, not throughput.
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Partners' systems and load balancers reuse connections.
keepalive = 5
