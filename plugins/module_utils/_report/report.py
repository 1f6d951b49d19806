# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The one-file HTML release report (``make report``, ``tachyon.infra.release_report``): what runs
where, the release list, a timeline of every deploy attempt per environment coloured by outcome
(inline SVG), App Platform's events in each deploy window, and the delivery metrics. Self-contained: inline CSS, a few lines of inline JS
(a filter for the release table), no external asset, no server.

Every value that comes from the manifest is data: it goes through ``escape.html_text`` (text and
attribute values alike), so a version, a name or a note holding markup renders as text. The
page embeds no JSON and builds no markup from strings in JS.
"""
from __future__ import annotations

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import html_text
from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import history as rh
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import format_utc, parse_utc

COLOURS = {"succeeded": "#2e7d32", "failed": "#c62828", "rolled_back": "#ef6c00", "refused": "#78909c"}


def shown_outcome(entry):
    """The outcome the report shows: ``refused`` for an attempt that deployed nothing
    (delivery metrics' is_refusal), else the recorded one."""
    return "refused" if dm.is_refusal(entry) else entry["outcome"]


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 28px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c8ccd4}
main{padding:8px 28px 32px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:18px 0;padding:14px 18px}
h2{font-size:16px;margin:0 0 10px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{font-weight:600;color:#4a5160;background:#fafbfc}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px}
.succeeded{background:#2e7d32}.failed{background:#c62828}.rolled_back{background:#ef6c00}.refused{background:#78909c}
.muted{color:#7a8190}
.current{font-weight:600}
#release-filter{margin:0 0 8px;padding:4px 8px;width:240px}
svg text{font:11px system-ui,sans-serif;fill:#4a5160}
.legend span{margin-right:14px}
.not-ours{background:#6a1b9a}
tr.not-ours td{background:#faf5fc}
"""

JS = """
(function () {
  var input = document.getElementById('release-filter');
  var rows = document.querySelectorAll('#releases tbody tr');
  input.addEventListener('input', function () {
    var needle = input.value.toLowerCase();
    for (var i = 0; i < rows.length; i++) {
      rows[i].hidden = needle !== '' && rows[i].textContent.toLowerCase().indexOf(needle) === -1;
    }
  });
  document.body.setAttribute('data-ready', 'true');
})();
"""


def esc(value):
    """Text and attribute values: every ``& < > " '`` escaped; None is a dash."""
    return "-" if value is None else html_text(value)


def _badge(outcome):
    return '<span class="badge %s">%s</span>' % (esc(outcome), esc(outcome))


def _short(ref):
    if not ref:
        return "-"
    text = str(ref)
    return text[:19] if text.startswith("sha256:") else text[:12]


def _services_cell(services):
    if not services:
        return '<span class="muted">not recorded</span>'
    return "<br>".join("<code>%s %s</code>" % (esc(name), esc(_short(svc.get("digest") or svc.get("sha"))))
                       for name, svc in sorted(services.items()))


def running_section(view):
    rows = []
    for env, now in view["running"].items():
        if not now["since"]:
            rows.append('<tr data-env="%s"><td>%s</td><td colspan="6" class="muted">nothing deployed</td></tr>'
                        % (esc(env), esc(env)))
            continue
        note = ""
        if now["via"] == "rollback":
            note = ' <span class="muted">(rolled back)</span>'
        elif now["via"] == "rollback to version":
            note = ' <span class="muted">(rollback from %s)</span>' % esc(now["latest_attempt"]["rollback_of_version"])
        latest = now.get("latest_attempt")
        if latest and latest["outcome"] == "failed":
            note += " %s <span class=\"muted\">latest attempt %s</span>" % (_badge("failed"), esc(latest["at"]))
        rows.append("<tr data-env=\"%s\"><td>%s</td><td class=\"current\">%s%s</td><td>%s</td><td><code>%s</code></td>"
                    "<td>%s</td><td>%s</td><td>%s</td></tr>"
                    % (esc(env), esc(env), esc(rh.version_label(now["version"])), note, esc(now["since"]),
                       esc(now["deployment_id"]), esc(now["deployed_by"]), esc(now["approved_by"]),
                       _services_cell(now.get("services"))))
    return ('<section id="running"><h2>What runs where</h2><table><thead><tr><th>Environment</th><th>Release</th>'
            "<th>Since</th><th>Deployment</th><th>Deployed by</th><th>Approved by</th><th>Services</th></tr>"
            "</thead><tbody>%s</tbody></table></section>" % "".join(rows))


def _attempt_cell(slot):
    if slot is None:
        return '<span class="muted">never deployed</span>'
    last = slot["last"]
    parts = [_badge(shown_outcome(last)), esc(last["at"])]
    for label, key in (("by", "deployed_by"), ("approved by", "approved_by"), ("deployment", "deployment_id"),
                       ("rolled back to", "rolled_back_to"), ("rollback from", "rollback_of_version"),
                       ("after its migration:", "after_migration")):
        if last.get(key):
            parts.append('<span class="muted">%s</span> %s' % (label, esc(last[key])))
    parts.append('<span class="muted">(%d attempt%s)</span>' % (slot["attempts"], "" if slot["attempts"] == 1 else "s"))
    return " ".join(parts)


def releases_section(view):
    rows = []
    for rel in view["releases"]:
        created = esc(rel["created_at"]) if rel["created_at"] else '<span class="muted">not recorded</span>'
        rows.append('<tr class="release"><td class="%s">%s</td><td>%s</td>%s</tr>'
                    % ("current" if rel["current"] else "", esc(rh.version_label(rel["version"])), created,
                       "".join("<td>%s</td>" % _attempt_cell(rel["environments"][env]) for env in mf.ENVIRONMENTS)))
    heads = "".join("<th>%s</th>" % esc(env) for env in mf.ENVIRONMENTS)
    return ('<section><h2>Releases (%d)</h2><input id="release-filter" type="search" placeholder="filter releases" '
            'aria-label="filter releases"><table id="releases"><thead><tr><th>Release</th><th>Created</th>%s</tr>'
            "</thead><tbody>%s</tbody></table></section>" % (len(view["releases"]), heads, "".join(rows)))


def timeline_svg(manifest, until, width=1100, row=56):
    """Inline SVG: one row per environment, a dot per deploy attempt at its time, coloured by
    outcome, its details in a <title> tooltip."""
    left, right, top = 90, 20, 24
    envs = list(mf.ENVIRONMENTS)
    height = top + row * len(envs) + 34
    times = [parse_utc(e["at"]) for e in manifest["history"]]
    start = min(times) if times else until
    end = max(times + [until])
    span = max((end - start).total_seconds(), 1.0)

    def x_of(moment):
        return left + (width - left - right) * (moment - start).total_seconds() / span

    parts = ['<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'role="img" aria-label="deployments per environment over time, coloured by outcome">'
             % (width, height, width, height)]
    parts.append('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (width, height))
    for i, env in enumerate(envs):
        y = top + row * i + row / 2
        parts.append('<text x="8" y="%.1f">%s</text>' % (y + 4, esc(env)))
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#cfd5de" stroke-width="1"/>'
                     % (left, y, width - right, y))
    axis_y = top + row * len(envs) + 6
    for k in range(6):
        moment = start + (end - start) * (k / 5.0)
        x = x_of(moment)
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eceff3"/>' % (x, top, x, axis_y))
        anchor = "start" if k == 0 else "end" if k == 5 else "middle"
        parts.append('<text x="%.1f" y="%d" text-anchor="%s">%s</text>'
                     % (x, axis_y + 14, anchor, esc(format_utc(moment)[:16].replace("T", " "))))
    for moment, entry in zip(times, manifest["history"]):
        y = top + row * envs.index(entry["environment"]) + row / 2
        tip = "%s %s %s at %s%s%s" % (
            entry["environment"], rh.version_label(entry.get("version")), shown_outcome(entry), entry["at"],
            " deployment %s" % entry["deployment_id"] if entry.get("deployment_id") else "",
            " by %s" % entry["deployed_by"] if entry.get("deployed_by") else "")
        parts.append('<circle class="attempt %s" data-env="%s" cx="%.1f" cy="%.1f" r="6" fill="%s" '
                     'fill-opacity="0.85" stroke="#ffffff" stroke-width="1"><title>%s</title></circle>'
                     % (esc(shown_outcome(entry)), esc(entry["environment"]), x_of(moment), y,
                        COLOURS[shown_outcome(entry)], esc(tip)))
    parts.append("</svg>")
    return "".join(parts)


def timeline_section(manifest, until):
    legend = "".join('<span><span class="badge %s">%s</span></span>' % (o, o) for o in COLOURS)
    return ('<section><h2>Deployments (%d attempts)</h2><p class="legend">%s</p>%s</section>'
            % (len(manifest["history"]), legend, timeline_svg(manifest, until)))


def metrics_section(result):
    window = result["window"]
    rows = []
    for env, figures in result["environments"].items():
        for i, (measure, value, basis) in enumerate(dm.figure_lines(figures)):
            rows.append("<tr>%s<td>%s</td><td class=\"current\">%s</td><td class=\"muted\">%s</td></tr>"
                        % ('<td rowspan="4">%s</td>' % esc(env) if i == 0 else "", esc(measure), esc(value), esc(basis)))
    return ('<section id="metrics"><h2>Delivery metrics</h2><p class="muted">%s .. %s (since=%s)</p><table>'
            "<thead><tr><th>Environment</th><th>Measure</th><th>Value</th><th>Computed from</th></tr></thead>"
            "<tbody>%s</tbody></table></section>"
            % (esc(window["since"]), esc(window["until"]), esc(window["given"]), "".join(rows)))


def restarts_section(view):
    """Rolling restarts (playbooks/restart.yml), apart from the releases: none - no section."""
    rows = ["<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td></tr>"
            % (esc(r["environment"]), esc(r["at"]), esc(", ".join(r["components"])), _badge(r["outcome"]),
               esc(r.get("deployment_id") or "-"), esc(r.get("restarted_by") or ""), esc(r.get("message") or ""))
            for r in reversed(view.get("restarts") or [])]
    if not rows:
        return ""
    return ('<section id="restarts"><h2>Restarts (%d)</h2><p class="muted">rolling restarts of the running release: '
            "not releases, not counted as deployments</p><table><thead><tr><th>Environment</th><th>At</th>"
            "<th>Components</th><th>Outcome</th><th>Deployment</th><th>By</th><th>Note</th></tr></thead><tbody>%s"
            "</tbody></table></section>" % (len(rows), "".join(rows)))


def events_section(manifest, attempts=20):
    """App Platform's events in each deploy window (the history entries' ``events``, recorded by the
    deploy from GET /v2/apps/{id}/events), the newest ``attempts`` attempts that have some, newest
    first, each window oldest event first: what happened as one timeline. Events nobody here made
    (an autoscaling, App Platform's maintenance redeploy, someone else's deployment) are marked
    ``not ours``. The event text comes from outside: escaped like every value. None - no section."""
    windows = [e for e in manifest["history"] if e.get("events")][-attempts:]
    if not windows:
        return ""
    groups = []
    for entry in reversed(windows):
        events = entry["events"]
        head = ('<td rowspan="%d" class="window">%s %s %s<br><span class="muted">%s%s</span></td>'
                % (len(events), esc(entry["environment"]), esc(rh.version_label(entry.get("version"))),
                   _badge(shown_outcome(entry)), esc(entry["at"]),
                   " deployment %s" % esc(entry["deployment_id"]) if entry.get("deployment_id") else ""))
        rows = []
        for i, event in enumerate(events):
            mark = '<span class="muted">ours</span>' if event.get("ours") else '<span class="badge not-ours">not ours</span>'
            rows.append('<tr class="%s">%s<td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td></tr>'
                        % ("event ours" if event.get("ours") else "event not-ours", head if i == 0 else "",
                           esc(event.get("at")), esc(event.get("type")), esc(event.get("what")), mark))
        groups.append('<tbody data-env="%s">%s</tbody>' % (esc(entry["environment"]), "".join(rows)))
    return ('<section id="platform-events"><h2>App Platform events in the deploy windows</h2><p class="muted">'
            "what App Platform did while each deploy ran (GET /v2/apps/{id}/events), newest deploy first; "
            "<em>not ours</em>: an autoscaling, a maintenance redeploy or a deployment nobody here made</p>"
            "<table><thead><tr><th>Deploy</th><th>At</th><th>Type</th><th>Event</th><th>Whose</th></tr></thead>"
            "%s</table></section>" % "".join(groups))


def render(manifest, view, metrics_result, until, title="Tachyon releases"):
    """The whole page as one string."""
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>%s</title><style>%s</style></head><body>" % (esc(title), CSS),
        "<header><h1>%s</h1><p>current release %s &middot; generated %s &middot; %s</p></header><main>"
        % (esc(title), esc(view["current_release"]), esc(format_utc(until)), esc(view.get("manifest_path"))),
        running_section(view),
        releases_section(view),
        restarts_section(view),
        timeline_section(manifest, until),
        events_section(manifest),
        metrics_section(metrics_result),
        "</main><script>%s</script></body></html>\n" % JS,
    ])
