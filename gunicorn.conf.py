"""How gunicorn serves the app: in the Docker image, in docker-compose and in the benchmarks.

``gunicorn -c gunicorn.conf.py earlyhelp.wsgi:application``; flags given after it override it.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# A process per core: more Python processes than cores only fight over them. Threads in each,
# so that while one request waits on PostgreSQL or Redis another runs; with the GIL, more
# threads than a few add switching, not throughput. Measured with make bench-api on 2 cores
# (cases/api/bench.py --worker-class/--workers/--server-threads): 4 sync workers spent more
# gunicorn CPU per request than these, 3.85 against 3.16 ms per submission and 1.65 against
# 1.02 ms on the floor (sync has no keep-alive: a new connection per request); 2x2 served
# about as many as 2x4, 3x2 had a p99 over 600 ms, and one thread per worker served half.
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Partners' systems and load balancers reuse connections.
keepalive = 5
