"""`python3 run.py test` makes sure the browser of the browser tests is there; `python3 run.py
start` keeps its processes running."""

import io
import os
import signal
import stat
import threading

import pytest

from cdp import devtools
from tests.support.celery_worker import wait_for


def fake_apt_get(tmp_path, chromium, *, installs: bool):
    """An apt-get stand-in that records its arguments and, if asked, 'installs' chromium."""
    calls = tmp_path / "calls.txt"
    script = tmp_path / "apt-get"
    create = f"touch {chromium}\n" if installs else "exit 100\n"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nif [ "$1" = install ]; then {create}fi\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, calls


def test_chromium_is_installed_with_apt_get_when_missing(tmp_path, monkeypatch, capsys):
    chromium = tmp_path / "chromium"
    apt_get, calls = fake_apt_get(tmp_path, chromium, installs=True)
    monkeypatch.setattr(devtools, "CHROMIUM", chromium)
    monkeypatch.setattr(devtools.shutil, "which", lambda name: str(apt_get))
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    devtools._ensure_chromium()

    assert chromium.exists()
    assert calls.read_text().splitlines() == ["install -y chromium"]
    assert "installing Debian's chromium for the browser tests" in capsys.readouterr().out


def test_a_failed_install_refreshes_the_package_lists_then_says_what_to_install(
    tmp_path, monkeypatch
):
    chromium = tmp_path / "chromium"
    apt_get, calls = fake_apt_get(tmp_path, chromium, installs=False)
    monkeypatch.setattr(devtools, "CHROMIUM", chromium)
    monkeypatch.setattr(devtools.shutil, "which", lambda name: str(apt_get))
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    with pytest.raises(SystemExit) as exit_info:
        devtools._ensure_chromium()

    assert calls.read_text().splitlines() == [
        "install -y chromium",
        "update",
        "install -y chromium",
    ]
    assert str(exit_info.value) == (
        f"The browser tests need Chromium at {chromium}. Install Debian's package as root "
        "(`apt-get install chromium`, or `sudo apt-get install chromium`) and run the tests again."
    )


def test_without_root_nothing_is_installed_and_the_message_says_what_to_do(tmp_path, monkeypatch):
    chromium = tmp_path / "chromium"
    apt_get, calls = fake_apt_get(tmp_path, chromium, installs=True)
    monkeypatch.setattr(devtools, "CHROMIUM", chromium)
    monkeypatch.setattr(devtools.shutil, "which", lambda name: str(apt_get))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    with pytest.raises(SystemExit, match="sudo apt-get install chromium"):
        devtools._ensure_chromium()

    assert not calls.exists()


def test_the_start_command_restarts_a_process_that_exits_and_leaves_the_others_running(
    tmp_path,
):
    """Under honcho one exited process (a worker that lost its broker) stopped web and beat."""
    starts = tmp_path / "starts"
    out = io.StringIO()
    supervisor = devtools.Supervisor(
        {
            "crashy": f"sh -c 'echo up >> {starts}; exit 3'",
            "steady": f"sh -c 'echo $$ >> {tmp_path / 'steady'}; exec sleep 60'",
        },
        env=dict(os.environ),
        cwd=tmp_path,
        out=out,
        min_delay=0.05,
        max_delay=0.2,
    )
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    try:
        wait_for(
            lambda: starts.exists() and len(starts.read_text().splitlines()) >= 3,
            timeout=30,
            message="the exiting process started three times",
        )
        steady_pid = int((tmp_path / "steady").read_text())
        assert supervisor.processes["steady"].pid == steady_pid
        assert supervisor.processes["steady"].poll() is None
    finally:
        supervisor.stop()
        runner.join(timeout=30)

    assert not runner.is_alive()
    assert supervisor.processes["steady"].returncode == -signal.SIGTERM
    assert (tmp_path / "steady").read_text().split() == [str(steady_pid)]
    log = out.getvalue().splitlines()
    assert "crashy | crashy exited (rc=3), restarting in 0.05s" not in log
    assert "system | crashy exited (rc=3), restarting in 0.05s" in log
    assert "system | crashy exited (rc=3), restarting in 0.1s" in log
