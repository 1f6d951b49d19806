"""The generated OpenAPI bundle is up to date with the vendored DigitalOcean OpenAPI."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("TACHYON_SHARED") or os.path.join(ROOT, "..", "shared")
VENDOR = os.path.normpath(os.path.join(SHARED, "vendor", "digitalocean-openapi", "specification"))


@pytest.mark.skipif(not os.path.isdir(VENDOR),
                    reason="vendored DigitalOcean OpenAPI ../shared/vendor/digitalocean-openapi is absent")
def test_bundle_is_current():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "vendor_do_openapi.py"), VENDOR, "--check"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
