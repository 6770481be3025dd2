"""An ingest killed with SIGKILL leaves no half partition and the manifest unchanged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from features import schema as s
from features.offices import load_offices
from store.ingest import ingest
from store.layout import Store
from tests.factories import ticket_log, write_table
from tests.store.conftest import stored_rows, tree

REPO = Path(__file__).resolve().parents[2]

# Runs `waitcast ingest`, pausing at one point (a marker file says it got there) so that
# the test can SIGKILL it there: with partitions half written in staging, or with the new
# snapshot renamed in but CURRENT not yet moved.
_PAUSING_INGEST = """
import os, pathlib, sys, time
import store.ingest, store.layout
marker, point = pathlib.Path(os.environ["MARKER"]), os.environ["POINT"]

def pause_before(original):
    def paused(*args, **kwargs):
        marker.write_text(point)
        time.sleep(120)
        return original(*args, **kwargs)
    return paused

def pause_after(original):
    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        marker.write_text(point)
        time.sleep(120)
        return result
    return paused

if point == "writing":
    store.ingest.ParquetPartitionWriter.write = pause_after(
        store.ingest.ParquetPartitionWriter.write)
elif point == "committing":
    store.layout.Store._switch_current = pause_before(store.layout.Store._switch_current)
from cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("point", ["writing", "committing"])
def test_a_killed_ingest_leaves_the_store_as_it_was(tmp_path: Path, point: str) -> None:
    root = tmp_path / "st"
    first = write_table(ticket_log(days=3), tmp_path / "a.csv")
    ingest(Store.open(root, create=True), [first], load_offices())
    before, rows_before = tree(root), stored_rows(root)
    second = write_table(ticket_log(per_office_day=40, days=9, seed=5), tmp_path / "b.parquet")
    marker = tmp_path / "marker"
    env = {**os.environ, "MARKER": str(marker), "POINT": point, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", _PAUSING_INGEST, "ingest", str(second), "--store", str(root)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the ingest never reached the pause"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert Store.open(root).current() == "s000001"
    assert stored_rows(root).equals(rows_before)
    after = tree(root)
    if point == "writing":
        assert after == before  # the half-written partitions are only in .staging
    else:  # the new snapshot was renamed in, but CURRENT never pointed at it
        assert any(k.startswith("snapshots/s000002/") for k in after)
        assert {k: v for k, v in after.items() if not k.startswith("snapshots/s000002")} == before
    result = ingest(Store.open(root), [second], load_offices())  # cleans up, then ingests
    assert result.snapshot == "s000002" and result.files[0].added > 0
    assert len(stored_rows(root)) == len(rows_before) + result.files[0].added
    assert not (root / ".staging").exists()
    assert s.OFFICE_ID in stored_rows(root)


@pytest.mark.slow
def test_a_full_disk_in_a_real_ingest_exits_1_with_one_line(tmp_path: Path) -> None:
    """The file-size limit of the process stands in for a full disk (EFBIG, like ENOSPC)."""
    import resource

    root = tmp_path / "st"
    ingest(
        Store.open(root, create=True),
        [write_table(ticket_log(days=1), tmp_path / "a.csv")],
        load_offices(),
    )
    before = tree(root)
    big = write_table(ticket_log(per_office_day=300, days=20, seed=2), tmp_path / "b.csv")

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "ingest", str(big), "--store", str(root)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=small_disk,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "File too large" in done.stderr and "free some space" in done.stderr
    assert tree(root) == before
