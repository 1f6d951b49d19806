"""make bench: run every benchmark, print the results, write bench/RESULTS.md.

    python -m bench                       # everything (what make bench runs)
    python -m bench --only health,scale   # a subset (RESULTS.md is written only for a full run
                                          # unless --output is given)
    python -m bench --quick --output x.md # quick mode (make test runs it): the deploy benchmark,
                                          # one staging deploy and one promotion
"""
import argparse
import json
import os
import sys
import time
import traceback

from bench import ROOT, machine, report

ORDER = ("health", "failure", "deploy", "validate", "scale", "notes")


def _run_one(name, args):
    if name == "health":
        from bench import health
        return health.run(runs=args.runs, workers=args.workers)
    if name == "failure":
        from bench import failure
        return failure.run(runs=args.runs, workers=args.workers)
    if name == "deploy":
        from bench import deploy
        return deploy.run(runs=args.deploy_runs)
    if name == "validate":
        from bench import validate
        return validate.run(runs=args.validate_runs, baseline_runs=args.validate_baseline_runs)
    if name == "notes":
        from bench import notes
        return notes.run(runs=args.notes_runs)
    from bench import scale
    return scale.run()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset of: %s" % ", ".join(ORDER))
    parser.add_argument("--runs", type=int, default=20, help="runs per configuration, benchmarks 1-2 (default 20)")
    parser.add_argument("--workers", type=int, default=4, help="runs at a time, benchmarks 1-2 (default 4)")
    parser.add_argument("--deploy-runs", type=int, default=5, help="deploys, benchmark 3 (default 5)")
    parser.add_argument("--validate-runs", type=int, default=3, help="make validate runs (default 3)")
    parser.add_argument("--validate-baseline-runs", type=int, default=2, help="bare linter runs (default 2)")
    parser.add_argument("--notes-runs", type=int, default=3, help="release notes and drift runs, benchmark 6 (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="quick mode: the deploy benchmark only, one run (what make test runs)")
    parser.add_argument("--output", help="Markdown file to write (default bench/RESULTS.md for a full run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.only, args.deploy_runs = args.only or "deploy", 1
    names = [n.strip() for n in args.only.split(",")] if args.only else list(ORDER)
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        parser.error("unknown benchmark(s) %s; choose from %s" % (", ".join(unknown), ", ".join(ORDER)))
    output = args.output or (None if args.only else os.path.join(ROOT, "bench", "RESULTS.md"))

    info = machine.describe()
    started = time.time()
    results = []
    for name in names:
        print("bench: %s ..." % name, flush=True)
        load = machine.load_average()
        t0 = time.time()
        try:
            result = _run_one(name, args)
        except Exception as exc:  # pylint: disable=broad-except  # report it, run the others
            traceback.print_exc()
            result = {"id": name, "title": name, "error": "%s: %s" % (type(exc).__name__, exc)}
        result.update(load_before=load, seconds=time.time() - t0)
        print("bench: %s done in %.0f s" % (name, result["seconds"]), flush=True)
        results.append(result)
    info["load_at_end"] = machine.load_average()
    text = report.render(info, results, time.time() - started,
                         "make bench" if not args.only else "python -m bench " + " ".join(argv or sys.argv[1:]))
    print()
    print(text)
    raw = os.path.join(ROOT, "bench", "out", "results.json")  # the figures behind the report (git-ignored)
    os.makedirs(os.path.dirname(raw), exist_ok=True)
    with open(raw, "w", encoding="utf-8") as handle:
        json.dump({"machine": info, "results": results}, handle, indent=1, default=str)
    if output:
        tmp = output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
        print("bench: wrote %s" % os.path.relpath(output, ROOT))
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
