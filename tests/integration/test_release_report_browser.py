"""The HTML release report in a real headless browser: Debian's chromium driven by selenium
through Debian's chromium-driver (installed by scripts/provision-browser.sh, `make browser`, a
dependency of `make test`). The page must load from a file:// URL with no console error, show
the releases and the timeline (DOM checks), and a screenshot must show non-blank pixels in the
chart. Values from the manifest holding markup must render as text.

The report is written by playbooks/report.yml (the path `make report` takes) from the synthetic
history of tests/fixtures/history/synthetic.py plus a release whose description/person/
deployment id carry markup."""
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "history"))
import synthetic  # noqa: E402

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium/chromium-driver are not installed: `make browser` (scripts/provision-browser.sh, "
           "which `make test` runs first) installs them")
EVIL = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"


def _png_pixels(png):
    """(width, height, rows of RGB(A) bytes) of a PNG screenshot: the standard library's zlib
    on the IDAT chunks (8-bit RGB/RGBA, as chromium writes them), with PNG's row filters undone."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", None
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            depth, colour = body[8], body[9]
            assert depth == 8 and colour in (2, 6), "unexpected PNG format"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    shas, urls = synthetic.make_repos(base)
    manifest = synthetic.manifest(shas)
    # a hostile release: markup in the person and deployment id fields (both allowed characters)
    # and App Platform events of its deploy window (outside text: an event's words carry markup too)
    manifest = mf.record_deployment(manifest, "staging", "failed", deployment_id="x<b>bold</b>",
                                    deployed_by=EVIL, at="2026-04-08T00:00:00Z",
                                    events=[{"at": "2026-04-07T23:59:00Z", "type": "DEPLOYMENT",
                                             "deployment_id": "x<b>bold</b>", "what": "deployment x<b>bold</b>: ERROR",
                                             "ours": True},
                                            {"at": "2026-04-07T23:59:30Z", "type": "AUTOSCALING",
                                             "deployment_id": None, "what": EVIL, "ours": False}])
    path = base / "manifest.json"
    path.write_text(mf.to_json_text(manifest))
    dest = base / "out" / "report.html"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    bin_dir = Path(sys.executable).parent
    repo_urls = "{%s}" % ", ".join('"%s": "%s"' % kv for kv in urls.items())
    run = subprocess.run([str(bin_dir / "ansible-playbook"), str(ROOT / "playbooks" / "report.yml"),
                          "-e", "manifest_path=%s" % path, "-e", "report_path=%s" % dest,
                          "-e", "window_end=%s" % synthetic.UNTIL, "-e", "cache_dir=%s" % (base / "cache"),
                          "-e", '{"tachyon_repo_urls": %s}' % repo_urls],
                         env=env, capture_output=True, text=True, check=False, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 release(s), 14 deploy attempt(s)" in " ".join(run.stdout.split())
    return dest


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1600", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_the_report_is_self_contained(report):
    page = report.read_text()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "<link" not in page and "src=" not in page.replace("src=x", "")
    assert EVIL not in page and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page


def test_renders_in_headless_chromium_with_releases_chart_and_metrics(report, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(report.as_uri())
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"  # the inline JS ran
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    # the releases, newest first, with their outcomes
    rows = browser.find_elements(By.CSS_SELECTOR, "#releases tbody tr")
    assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == ["0.4.0", "0.3.0", "0.2.1", "0.2.0", "0.1.0"]
    assert "rolled_back" in rows[3].text and "succeeded" in rows[4].text
    # what runs where: production still runs 0.3.0 (0.4.0 failed)
    prod = browser.find_element(By.CSS_SELECTOR, '#running tr[data-env="production"]')
    assert "0.3.0" in prod.text and "p-5" in prod.text
    # the timeline: one dot per attempt, coloured by outcome
    dots = browser.find_elements(By.CSS_SELECTOR, "#timeline circle.attempt")
    assert len(dots) == 14
    assert {d.get_attribute("fill") for d in dots} == {"#2e7d32", "#c62828", "#ef6c00"}
    assert len(browser.find_elements(By.CSS_SELECTOR, '#timeline circle.failed[data-env="production"]')) == 2
    # the metrics table with their counts
    metrics = browser.find_element(By.ID, "metrics").text
    assert "50.0%" in metrics and "from 4 failed or rolled back of 8 attempts" in metrics
    assert "from 6 commits in 3 deployments" in metrics
    # markup from the manifest is text, and never ran
    assert browser.execute_script("return window.__pwned === undefined")
    assert EVIL in rows[0].text and "x<b>bold</b>" in rows[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "#releases b, #releases img, main script") == []
    # App Platform's events of that deploy window: one row each, the foreign one marked, text only
    events = browser.find_elements(By.CSS_SELECTOR, "#platform-events tr.event")
    assert [e.get_attribute("class") for e in events] == ["event ours", "event not-ours"]
    assert "deployment x<b>bold</b>: ERROR" in events[0].text and EVIL in events[1].text
    assert "not ours" in events[1].text
    assert browser.find_elements(By.CSS_SELECTOR, "#platform-events b, #platform-events img") == []
    # the filter (inline JS) hides the other releases
    box = browser.find_element(By.ID, "release-filter")
    box.send_keys("0.2.1")
    assert [r.is_displayed() for r in rows] == [False, False, True, False, False]
    box.send_keys(Keys.BACKSPACE * len("0.2.1"))
    assert all(r.is_displayed() for r in rows)

    # screenshot: non-empty, and the chart area has non-blank (coloured) pixels
    chart = browser.find_element(By.ID, "timeline")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
    shot = Path(os.environ.get("TACHYON_REPORT_SCREENSHOT") or tmp_path / "report.png")
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 1000
    rect = browser.execute_script("var r = arguments[0].getBoundingClientRect();"
                                  "return [r.left, r.top, r.width, r.height, window.devicePixelRatio];", chart)
    width, height, bpp, pixels = _png_pixels(shot.read_bytes())
    scale = rect[4]
    x0, y0 = int(rect[0] * scale), int(rect[1] * scale)
    x1, y1 = min(width, int((rect[0] + rect[2]) * scale)), min(height, int((rect[1] + rect[3]) * scale))
    assert x1 > x0 and y1 > y0, "the chart is off screen"
    coloured = set()
    for y in range(y0, y1):
        row = pixels[y]
        for x in range(x0, x1):
            r, g, b = row[x * bpp], row[x * bpp + 1], row[x * bpp + 2]
            if r > 180 and g < 90 and b < 90:
                coloured.add("red")
            elif g > 100 and r < 90 and b < 90:
                coloured.add("green")
            elif r > 200 and 80 < g < 140 and b < 60:
                coloured.add("orange")
    assert coloured == {"red", "green", "orange"}, coloured
