"""`python3 run.py test` makes sure the browser of the browser tests is there."""

import os
import stat

import pytest

from cdp import devtools


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
