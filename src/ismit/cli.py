"""`ismit`: the operators' command.

It wraps Django's manage.py (`ismit migrate`, `ismit refdata load`, `ismit audit verify`…) and adds
`ismit serve`, the production web server (gunicorn; static files through whitenoise).
"""

from __future__ import annotations

import os
import sys


def serve(argv: list[str]) -> None:
    """Run gunicorn on 127.0.0.1:$PORT (8000) with the platform's WSGI application."""
    import argparse

    parser = argparse.ArgumentParser(prog="ismit serve", description=serve.__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
    args = parser.parse_args(argv)
    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn",
        "ismit.config.wsgi:application",
        f"--bind={args.host}:{args.port}",
        f"--workers={args.workers}",
        f"--threads={args.threads}",
        "--worker-class=gthread",
        *(["--access-logfile=-"] if os.environ.get("WEB_ACCESS_LOG", "1") != "0" else []),
        f"--timeout={os.environ.get('WEB_TIMEOUT', '60')}",
        "--forwarded-allow-ips=" + os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    run()


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ismit.config.settings")
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        serve(args[1:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ismit", *args])


if __name__ == "__main__":
    main()
