"""`d2lft.support.settings`: every `D2LFT_*` variable read in one module, listed in the README, refused when wrong."""

from __future__ import annotations

import re

import pytest

import d2lft
from d2lft.support import settings
from d2lft.support.paths import REPO_ROOT
from d2lft.worlds import downloads
from tests.conftest import Route


def test_only_the_settings_module_reads_the_course_variables():
    readers = [
        f"{path.relative_to(REPO_ROOT)}: {line.strip()}"
        for path in sorted((REPO_ROOT / "d2lft").rglob("*.py"))
        if path.name != "settings.py"
        for line in path.read_text().splitlines()
        if re.search(r"environ|getenv", line) and "D2LFT_" in line
    ]
    assert readers == []


def test_the_readme_lists_every_setting_and_no_other():
    readme = (REPO_ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `(D2LFT_\w+)` \|", readme, flags=re.M))
    assert listed == set(settings.VARIABLES)
    used = {
        name for path in (REPO_ROOT / "d2lft").rglob("*.py") for name in re.findall(r"D2LFT_[A-Z_]+", path.read_text())
    }
    assert used <= set(settings.VARIABLES)


def test_empty_counts_as_unset_and_a_wrong_choice_names_the_variable(monkeypatch):
    monkeypatch.setenv("D2LFT_RECIPE", "  ")
    assert settings.setting("D2LFT_RECIPE") is None and settings.choice("D2LFT_RECIPE", ("book",)) is None
    monkeypatch.setenv("D2LFT_RECIPE", " Book ")
    assert settings.choice("D2LFT_RECIPE", ("book", "laptop")) == "book"
    monkeypatch.setenv("D2LFT_RECIPE", "fast")
    with pytest.raises(ValueError, match=r"D2LFT_RECIPE='fast' is not one of \('book', 'laptop'\)"):
        settings.choice("D2LFT_RECIPE", ("book", "laptop"))
    with pytest.raises(KeyError, match="D2LFT_WROLD is not one of the course's settings"):
        settings.setting("D2LFT_WROLD")


def test_the_automatic_world_is_decided_once_per_process(monkeypatch, data_home, http_server):
    # A notebook's cells all run in one world, and the data server is asked once, even if it goes away.
    monkeypatch.delenv("D2LFT_WORLD", raising=False)
    url = http_server.add("/hotdog.zip", Route(b"zip"))
    monkeypatch.setitem(downloads.DATA_HUB, "hotdog", (url, "0" * 40))
    assert d2lft.get_world().name == "hotdog"
    http_server.routes.clear()  # the server now answers 404
    assert d2lft.get_world().name == "hotdog"
    assert http_server.hits == ["/hotdog.zip"]
