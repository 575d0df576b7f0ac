"""The students' view: notebook 01 run through JupyterLab's own UI in headless Chromium.

JupyterLab serves a temporary copy of `notebooks/` (its autosave must never touch the committed
notebooks); Playwright drives Debian's Chromium (no browser download), clicks Run > Run All Cells,
waits until every cell has run, and checks that no error appeared and every figure rendered.
Screenshots go to `build/screenshots/`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_lab import STARTUP_SECONDS, _free_port

import d2lft

NOTEBOOK = "01_hotdog_data.ipynb"
SHOTS = d2lft.paths.REPO_ROOT / "build" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
]  # fmt: skip


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where it can, as root)")
    return path


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on 127.0.0.1 over a copy of the notebooks; yields (base URL, token)."""
    root = tmp_path / "notebooks"
    shutil.copytree(d2lft.paths.REPO_ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), "d2lft-browser"
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    settings = tmp_path / "lab-settings"
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')  # no "Jupyter news?" toast over the screenshots
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings)}  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
            break
        except OSError:
            assert server.poll() is None, "JupyterLab stopped before it answered"
            assert time.monotonic() < deadline, f"JupyterLab did not start within {STARTUP_SECONDS} s"
            time.sleep(0.5)
    yield base, token, root
    server.terminate()
    server.wait(timeout=20)


@pytest.mark.slow
def test_notebook_01_runs_in_jupyterlab_in_a_real_browser(lab):
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = _chromium()
    base, token, root = lab
    code_cells = sum(c["cell_type"] == "code" for c in json.loads((root / NOTEBOOK).read_text())["cells"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            # Ready means: the notebook's own cells are on the page (not the placeholder shown while it
            # loads) and the status bar reports the kernel idle ("Python 3 (ipykernel) | Idle").
            page.wait_for_function(
                f"() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length === {code_cells}",
                timeout=180_000,
            )
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                ".some(e => /\\|\\s*Idle/.test(e.textContent))",
                timeout=180_000,
            )
            page.screenshot(path=str(SHOTS / "lab_01_opened.png"))
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            # Every code cell gets an execution count; '[*]' means still running.
            page.wait_for_function(
                f"""() => {{
                    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                        .map(e => e.textContent.trim());
                    return prompts.length === {code_cells} && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
                }}""",
                timeout=300_000,
            )
            errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
            stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            assert errors.count() == 0, errors.first.inner_text()
            assert stderr.count() == 0, stderr.first.inner_text()
            figures = page.locator(".jp-OutputArea-output img")
            assert figures.count() >= 5
            sizes = figures.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
            assert all(w > 100 and h > 50 for w, h in sizes), sizes
            page.screenshot(path=str(SHOTS / "lab_01_run.png"))
            gallery = page.locator(".jp-CodeCell", has_text="every view should differ").locator("img").first
            gallery.scroll_into_view_if_needed()
            gallery.screenshot(path=str(SHOTS / "augmentation_gallery.png"))
        finally:
            browser.close()
    assert (SHOTS / "lab_01_run.png").stat().st_size > 10_000
