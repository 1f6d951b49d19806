"""tachyon-infra benchmarks (``make bench`` = ``python -m bench``); see bench/README.md."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
