"""Command line: ``python -m emulator serve [options]`` (``make sandbox`` runs it).

    python -m emulator serve --port 8480 --state-dir .sandbox \\
        --seed emulator/sandbox-seed.yml [--phase-seconds 0.2 | BUILDING=2,DEPLOYING=1]
        [--faults faults.yml] [--burst-limit 250] [--health-component api]
        [--ready-file PATH] [--reset] [--host 127.0.0.1] [--verbose]

Prints one line ``listening on http://127.0.0.1:PORT`` when it accepts connections and, with
``--ready-file``, writes that URL to PATH (atomically) so scripts can start it in the
background and wait for the file. ``--port 0`` picks a free port. Stops on Ctrl-C/SIGTERM.
"""
import argparse
import os
import signal
import sys
import threading

from emulator import ensure_import_path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulator",
                                     description="DigitalOcean App Platform emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator in the foreground")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8480, help="port (0 = a free port; default 8480)")
    serve.add_argument("--state-dir", help="keep state in DIR/state.json across restarts (default: memory only)")
    serve.add_argument("--seed", help="seed file (YAML): accounts, apps, settings, faults")
    serve.add_argument("--reset", action="store_true", help="discard the saved state and re-seed")
    serve.add_argument("--phase-seconds",
                       help="duration of each deployment phase: SECONDS, or PHASE=SECONDS,... "
                            "(phases PENDING_BUILD, BUILDING, PENDING_DEPLOY, DEPLOYING)")
    serve.add_argument("--faults", help="YAML/JSON file with a list of faults (see emulator.faults)")
    serve.add_argument("--burst-limit", type=int, help="requests per token per burst window before a 429")
    serve.add_argument("--burst-window", type=float, help="burst window in seconds (default 60)")
    serve.add_argument("--health-component", help="component whose image tag /health reports (default api)")
    serve.add_argument("--ready-file", help="write the URL to this file once listening")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    try:
        ensure_import_path()
    except RuntimeError as err:
        sys.exit("emulator: %s" % err)
    import yaml
    from emulator.bootstrap import SeedError, build_server
    from emulator.faults import FaultError

    faults = None
    if args.faults:
        with open(args.faults, encoding="utf-8") as handle:
            faults = yaml.safe_load(handle) or []
    rate_limit = {}
    if args.burst_limit is not None:
        rate_limit["burst"] = args.burst_limit
    if args.burst_window is not None:
        rate_limit["burst_window"] = args.burst_window
    try:
        server = build_server(seed=args.seed, host=args.host, port=args.port, state_dir=args.state_dir,
                              phase_seconds=args.phase_seconds, faults=faults, rate_limit=rate_limit,
                              health_component=args.health_component, reset=args.reset,
                              quiet=not args.verbose)
    except (SeedError, FaultError, ValueError, OSError) as err:
        sys.exit("emulator: %s" % err)
    print("listening on %s" % server.url, flush=True)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(server.url + "\n")
        os.replace(tmp, args.ready_file)

    def _stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
