"""Render benchmark results as Markdown (printed by make bench and written to RESULTS.md)."""
from bench import stats


def _s(value):
    if value is None:
        return "-"
    if value >= 100:
        return "%.0f" % value
    if value >= 10:
        return "%.1f" % value
    return "%.2f" % value


def _spread(summary):
    return "%s / %s / %s / %s" % tuple(_s(summary[k]) for k in ("min", "p50", "p90", "max"))


def _ratio(value):
    return "-" if value is None else ("%.1fx" % value)


def verdict(result, row):
    target = result.get("target")
    if not target:
        return "-"
    value = row["summary"][target["stat"]]
    return "%s %s < %g s: %s" % (target["stat"], _s(value), target["limit"],
                                 "met" if value < target["limit"] else "NOT met")


def comparison_table(results):
    lines = ["| Benchmark | Ours (configuration) | Ours min / p50 / p90 / max (s) | Baseline min / p50 / p90 / max (s) "
             "| Ratio baseline/ours at p50 (at max) | Target |",
             "|---|---|---|---|---|---|"]
    for result in results:
        if result.get("error") or result["id"] == "scale" or not result.get("baseline"):
            continue
        base = result["baseline"]["summary"]
        for row in result["rows"]:
            mine = row["summary"]
            lines.append("| %s | %s | %s | %s | %s (%s) | %s |" % (
                result["title"], row["label"], _spread(mine), _spread(base),
                _ratio(stats.ratio(base["p50"], mine["p50"])), _ratio(stats.ratio(base["max"], mine["max"])),
                verdict(result, row)))
    return lines


def _mib(value):
    return "%.1f MiB" % (value / 2 ** 20)


def scale_table(result):
    sizes = result["sizes"]
    head = "| Operation | " + " | ".join("N=%d: time, peak mem" % n for n in sizes) + \
        " | time per item (N=%s) | time factor N=%d->%d (linear: %d) | fit: time per item, exponent | peak per item (fit) |" % (
            "/".join(str(n) for n in sizes), sizes[-2], sizes[-1], sizes[-1] // sizes[-2])
    lines = [head, "|---" * (len(sizes) + 5) + "|"]
    for row in result["rows"]:
        cells = ["%.4f s, %s" % (row["per_n"][n]["time"], _mib(row["per_n"][n]["peak"])) for n in sizes]
        per_item = "/".join("%.2f ms" % (1000 * row["per_n"][n]["time"] / n) for n in sizes)
        fit = row["fit"]
        growth = row["per_n"][sizes[-1]]["time"] / row["per_n"][sizes[-2]]["time"]
        lines.append("| %s | %s | %s | %.1f | %.3f ms, %.2f (r2 %.3f) | %.1f KiB |" % (
            row["label"], " | ".join(cells), per_item, growth, fit["slope"] * 1000, fit["exponent"], fit["r2"],
            row["mem_fit"]["slope"] / 1024))
    return lines


def render(machine, results, total_seconds, command):
    out = ["# tachyon-infra benchmark results", "",
           "Written by `%s` (bench/). What each benchmark measures and how: bench/README.md." % command, "",
           "## Machine", ""]
    for key, value in machine.items():
        out.append("- %s: %s" % (key, value))
    out += ["- total run time: %.0f s" % total_seconds, "", "## Detection, overhead, validate: ours vs baseline", ""]
    out += comparison_table(results)
    out += ["", "Ratio = baseline / ours: how many times faster ours is (below 1.0x: slower). "
            "p50 = median, p90 = 90th percentile (linear interpolation).", ""]
    for result in results:
        out += ["## %s" % result["title"], ""]
        if result.get("error"):
            out += ["FAILED to run: %s" % result["error"], ""]
            continue
        if result.get("measure"):
            out.append("Measure: %s." % result["measure"])
        out.append("Load average (1/5/15 min) before it: %s; it took %.0f s." % (result["load_before"], result["seconds"]))
        out.append("")
        if result["id"] == "scale":
            out += scale_table(result) + [""]
            out.append("- linear growth shows as a flat time per item, time x10 when N x10 and an exponent "
                       "near 1.0 (the fixed cost of each call pulls the exponent below 1 at small N)")
        else:
            if result.get("baseline"):
                out.append("- baseline: %s: %s s (min / p50 / p90 / max)" % (result["baseline"]["label"],
                                                                             _spread(result["baseline"]["summary"])))
            for row in result["rows"]:
                out.append("- %s: %s s; %s" % (row["label"], _spread(row["summary"]), verdict(result, row)))
        for note in result.get("notes", []):
            out.append("- %s" % note)
        if result.get("breakdown"):
            out += ["", "Median time per task (s), largest first:", ""]
            out += ["- %s: %.2f" % (name, seconds) for name, seconds in result["breakdown"]]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
