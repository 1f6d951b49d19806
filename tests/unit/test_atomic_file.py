"""module_utils/_common/atomic_file.py: atomic replace survives crashes; the lock excludes other processes."""
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._common import atomic_file
from ansible_collections.tachyon.infra.plugins.module_utils._common.atomic_file import (
    FileLock, LockTimeout, atomic_write)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYS_PATH = [os.path.join(ROOT, ".collections"), ROOT]


def child(code, *args):
    """Start a Python child with the collection importable; it prints READY when set up."""
    prelude = "import sys; sys.path[:0] = %r\n" % SYS_PATH
    return subprocess.Popen([sys.executable, "-c", prelude + textwrap.dedent(code)] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(proc):
    line = proc.stdout.readline()
    assert line.strip() == "READY", "child failed: %s %s" % (line, proc.stderr.read())


def leftovers(directory, name):
    return [f for f in os.listdir(directory) if f.startswith("." + name) and f.endswith(".tmp")]


def test_atomic_write_replaces_content_and_keeps_mode(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("old")
    os.chmod(path, 0o600)
    atomic_write(str(path), "new")
    assert path.read_text() == "new"
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    assert leftovers(str(tmp_path), "m.json") == []


def test_atomic_write_new_file_gets_default_mode(tmp_path):
    path = tmp_path / "n.json"
    atomic_write(str(path), b"bytes")
    assert path.read_bytes() == b"bytes"
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_failed_rename_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text('{"old": true}')

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file.os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        atomic_write(str(path), '{"new": true}')
    assert json.loads(path.read_text()) == {"old": True}
    assert leftovers(str(tmp_path), "m.json") == []


def test_sigkill_mid_write_leaves_old_file_intact(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"old": true}\n')
    # The child writes half the new content, then blocks inside fsync (before the rename);
    # we SIGKILL it there: the state a killed ansible run leaves behind.
    proc = child("""
        import os, time
        from ansible_collections.tachyon.infra.plugins.module_utils._common import atomic_file
        def stuck_fsync(fd):
            print("READY", flush=True)
            time.sleep(60)
        atomic_file.os.fsync = stuck_fsync
        atomic_file.atomic_write(sys.argv[1], '{"new": ' + '1' * 100000 + '}')
    """, str(path))
    wait_ready(proc)
    assert leftovers(str(tmp_path), "m.json"), "the child should be mid-write (temp file present)"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads(path.read_text()) == {"old": True}
    atomic_write(str(path), '{"next": true}')  # a stray temp file does not disturb the next run
    assert json.loads(path.read_text()) == {"next": True}


def test_lock_contention_names_the_holder_and_dies_with_it(tmp_path):
    path = tmp_path / "m.json"
    proc = child("""
        import time
        from ansible_collections.tachyon.infra.plugins.module_utils._common.atomic_file import FileLock
        with FileLock(sys.argv[1], purpose="deploy staging"):
            print("READY", flush=True)
            time.sleep(60)
    """, str(path))
    try:
        wait_ready(proc)
        with pytest.raises(LockTimeout) as exc:
            FileLock(str(path), timeout=0.2).acquire()
        assert "pid %d" % proc.pid in str(exc.value)
        assert "deploy staging" in str(exc.value)
        assert exc.value.holder["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the kernel dropped the dead holder's lock: no stale lock
    with FileLock(str(path), timeout=5) as lock:
        assert lock.lock_path == str(tmp_path / ".m.json.lock")


def test_lock_is_reentrant_after_release(tmp_path):
    lock = FileLock(str(tmp_path / "m.json"), timeout=0)
    with lock:
        pass
    with lock:
        pass


def test_lock_excludes_a_second_holder_in_the_same_process(tmp_path):
    with FileLock(str(tmp_path / "m.json"), timeout=0):
        with pytest.raises(LockTimeout):
            FileLock(str(tmp_path / "m.json"), timeout=0).acquire()


# issue 17: "A symlinked manifest is replaced by a regular file, the real target left stale."
def test_atomic_write_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    real_dir = tmp_path / "shared"
    real_dir.mkdir()
    target = real_dir / "manifest.json"
    target.write_text("old")
    os.chmod(str(target), 0o640)
    link_dir = tmp_path / "checkout"
    link_dir.mkdir()
    link = link_dir / "manifest.json"
    link.symlink_to(os.path.relpath(str(target), str(link_dir)))
    atomic_write(str(link), "new")
    assert link.is_symlink() and os.readlink(str(link)) == os.path.relpath(str(target), str(link_dir))
    assert target.read_text() == "new" and link.read_text() == "new"
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o640
    # the temporary file was made beside the target (same filesystem), none is left anywhere
    assert sorted(os.listdir(str(real_dir))) == ["manifest.json"]
    assert sorted(os.listdir(str(link_dir))) == ["manifest.json"]


def test_a_chain_of_links_reaches_the_final_target(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    (tmp_path / "a.json").symlink_to("real.json")
    (tmp_path / "b.json").symlink_to("a.json")
    atomic_write(str(tmp_path / "b.json"), "new")
    assert target.read_text() == "new" and not target.is_symlink()
    assert (tmp_path / "a.json").is_symlink() and (tmp_path / "b.json").is_symlink()


def test_every_link_to_one_file_shares_its_lock(tmp_path):
    target = tmp_path / "real" / "manifest.json"
    target.parent.mkdir()
    target.write_text("{}")
    link = tmp_path / "manifest.json"
    link.symlink_to(target)
    assert atomic_file.lock_path_for(str(link)) == atomic_file.lock_path_for(str(target)) \
        == str(target.parent / ".manifest.json.lock")
    with FileLock(str(target), timeout=0):
        with pytest.raises(LockTimeout):
            FileLock(str(link), timeout=0).acquire()
