"""gunicorn settings for the ledger API (threads share one pool per worker, created after fork)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("PYTHON_THREADS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# The app is imported in each worker after the fork, so no database connection crosses a fork.
preload_app = False
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket defaults to one path per user, shared by every instance on the machine (two
# ledgers, or a benchmark beside `ledger serve`, would fight over it); the ledger does not use it.
control_socket_disable = True


def post_worker_init(worker: object) -> None:
    """Whatever gunicorn answers itself, before the app sees the request (414 over limit_request_line, 431 over
    limit_request_field_size or limit_request_fields, 400 for a malformed request line or chunk), is RFC 9457
    problem+json like every answer of the app: gunicorn writes all of them through `util.write_error`."""
    from gunicorn import util

    from api.errors import write_server_problem

    util.write_error = write_server_problem
