"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test bootstraps pip into each test venv by running a get-pip.py it downloads from
ci-files.testing.ansible.com, which this network cannot reach; it first looks in its cache
(~/.ansible/test/cache/get_pip_<version>.py). `make sanity` puts this file there. It does what
get-pip.py does with the interpreter's own `ensurepip` (the standard library's pip installer)
and then lets that pip install the pinned packages ansible-test asked for (pip==<version>) from
the configured index. get-pip.py's own flags (--no-setuptools, --no-wheel) mean "do not add
those packages", which ensurepip does not do anyway, so they are dropped.
"""
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def main():
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True,
                   stdout=subprocess.DEVNULL)
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY_FLAGS]
    if args:
        subprocess.run([sys.executable, "-m", "pip", "install"] + args, check=True)


if __name__ == "__main__":
    main()
