"""make bench keeps working (issue 25): its quick mode (one staging deploy and one production
promotion on the sandbox, by digest, every gate, and the one-task playbook of the same run)
runs to the end and reports the overhead of each and the ratio. No timing is asserted here:
the figures and their targets live in bench/ (bench/RESULTS.md)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_quick_mode_reports_the_deploy_overhead(tmp_path):
    out = tmp_path / "bench.md"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--output", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    text = out.read_text()
    assert "| 3. Deploy overhead | ours: staging deploy (playbooks/deploy.yml -l staging, every gate) |" in text, text
    assert "| 3. Deploy overhead | ours: production deploy (playbooks/deploy.yml -l production, every gate), " \
           "a promotion, soak 0 |" in text, text
    assert re.search(r"staging: 1 deploys; .* overhead p50 [\d.]+ s = [\d.]+x the one-task playbook", text), text
    assert re.search(r"production: 1 deploys; .* overhead p50 [\d.]+ s = [\d.]+x the one-task playbook", text), text
