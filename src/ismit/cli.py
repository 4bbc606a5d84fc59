"""`ismit`: the operators' command.

It wraps Django's manage.py (`ismit migrate`, `ismit refdata load`, `ismit audit verify`…) and adds
`ismit serve`, the production web server (gunicorn; static files through whitenoise), `ismit worker`, the
background workers (Celery), `ismit beat`, the clock of the periodic jobs (exactly one per deployment),
`ismit nsw-sim`, the reference single window (ismit.nsw_sim: its own process, no Django), and
`ismit carrier-sim`, a carrier's DCSA Track & Trace endpoint (ismit.carrier_sim: likewise).
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


def _schedule_folder(app) -> None:
    """Beat keeps when each periodic job last ran in a file under var/; make its folder."""
    from pathlib import Path

    Path(app.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)


def worker(argv: list[str]) -> None:
    """Run a Celery worker on the platform's queue; other arguments go to `celery worker` as they are."""
    import argparse

    parser = argparse.ArgumentParser(prog="ismit worker", description=worker.__doc__)
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))
    parser.add_argument(
        "--beat", action="store_true", help="also run the periodic jobs (in ONE process of the deployment)"
    )
    args, extra = parser.parse_known_args(argv)
    from ismit.config.celery import app

    options = [f"--concurrency={args.concurrency}", f"--loglevel={os.environ.get('LOG_LEVEL', 'INFO')}"]
    # Gossip, mingle and event heartbeats talk between workers over broadcast queues; deliveries need
    # none of them (and the filesystem transport would keep one file per message and worker).
    options += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    if args.beat:
        options.append("--beat")
        _schedule_folder(app)
    app.worker_main(["worker", *options, *extra])


def beat(argv: list[str]) -> None:
    """Run the clock that sends the periodic jobs (the outbox sweep…): exactly one per deployment."""
    from ismit.config.celery import app

    _schedule_folder(app)
    app.start(["beat", f"--loglevel={os.environ.get('LOG_LEVEL', 'INFO')}", *argv])


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["nsw-sim"]:  # the reference single window: its own process, no Django
        from ismit.nsw_sim.main import run

        sys.exit(run(args[1:]))
    if args[:1] == ["carrier-sim"]:  # a carrier's DCSA T&T endpoint for tests and demos: no Django
        from ismit.carrier_sim.main import run as run_carrier_sim

        sys.exit(run_carrier_sim(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ismit.config.settings")
    commands = {"serve": serve, "worker": worker, "beat": beat}
    if args[:1] and args[0] in commands:
        commands[args[0]](args[1:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ismit", *args])


if __name__ == "__main__":
    main()
