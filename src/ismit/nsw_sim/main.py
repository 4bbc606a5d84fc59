"""`ismit nsw-sim`: run the reference single window, or measure the intake rate of a running one."""

from __future__ import annotations

import logging
import signal
import sys

from ismit.nsw_sim.config import from_args


def run(argv: list[str]) -> int:
    try:
        config, args = from_args(argv)
    except ValueError as exc:  # a bad NSW_SIM_* value or option
        print(f"ismit nsw-sim: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s nsw-sim %(levelname)s %(message)s")
    if args.measure_intake:
        from ismit.nsw_sim.bench import intake_rate

        if not config.secret:
            print("ismit nsw-sim: --secret (or NSW_SIM_SECRET) is required", file=sys.stderr)
            return 2
        result = intake_rate(
            args.measure_intake, config.client_id, config.secret, count=args.count, threads=args.threads
        )
        print(
            f"nsw-sim intake: {result['count']} declarations from {result['threads']} threads in "
            f"{result['seconds']:.2f} s: {result['per_second']:.1f} declarations/s "
            f"({result['errors']} errors)"
        )
        print(f"NSW_SIM intake_per_s {result['per_second']:.1f}")
        return 0 if not result["errors"] else 1
    if not config.secret:
        print("ismit nsw-sim: --secret (or NSW_SIM_SECRET) is required", file=sys.stderr)
        return 2

    from ismit.nsw_sim.server import Simulator, make_server

    sim = Simulator(config)
    server = make_server(sim)
    sim.start()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    logging.getLogger("ismit.nsw_sim").info(
        "reference single window on http://%s:%s (db %s, callbacks to %s)",
        host,
        port,
        config.db,
        config.callback_url or "nowhere: polling only",
    )
    print(f"nsw-sim listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sim.stop()
    return 0
