"""The report opens in headless Chromium without console errors, and the screenshot shows the figures.

Uses Debian's ``chromium`` (``.ci/run`` installs it); skipped with the reason where it is missing.
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from matplotlib.image import imread

from cimgraph.plugins import get_plugin_manager
from cimgraph.report import render_comparison, render_report
from test_report import make_result

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install chromium "
                                "(.ci/run does this in CI)")


def screenshot(html_path, tmp_path, size=(1400, 3000)):
    """Load ``html_path`` headless; returns (RGB pixels, console lines)."""
    png = tmp_path / f"{html_path.stem}.png"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", f"--screenshot={png}", f"--window-size={size[0]},{size[1]}",
         html_path.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return imread(png)[:, :, :3], console


def color_pixels(pixels, hex_color, tol=0.03):
    rgb = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=2) < tol).sum())


def test_console_check_catches_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>missingFunction();</script>", encoding="utf-8")
    _, console = screenshot(page, tmp_path, size=(300, 200))
    assert any("missingFunction" in line for line in console)


def test_report_opens_without_console_errors_and_shows_figures(tmp_path):
    page = tmp_path / "report.html"
    render_report(make_result(), page, pm=get_plugin_manager(entry_points=False))
    pixels, console = screenshot(page, tmp_path)
    assert pixels.shape[:2] == (3000, 1400)
    assert console == []
    # the group colours appear only in the figures (chip picture, area bars, stacked layer bars)
    assert color_pixels(pixels, "#dd8452") > 5000   # adc
    assert color_pixels(pixels, "#55a868") > 5000   # accumulation
    assert color_pixels(pixels, "#8172b3") > 5000   # interconnect


def test_comparison_opens_without_console_errors(tmp_path):
    page = tmp_path / "compare.html"
    render_comparison([make_result("a"), make_result("b", scale=2.0)], page, pm=get_plugin_manager(entry_points=False))
    pixels, console = screenshot(page, tmp_path)
    assert console == []
    assert color_pixels(pixels, "#dd8452") > 2000  # design b's bars


def test_study_report_opens_without_console_errors_and_shows_the_front(tmp_path):
    from cimgraph.cli import main
    from test_explore import BITS, write_study

    study = write_study(tmp_path, axes={BITS: [3, 4, 5, 6], "technology": ["45nm", "22nm"]})
    assert main(["explore", str(study), "--store", str(tmp_path / "s.sqlite"), "--workers", "1", "--quiet"]) == 0
    page = tmp_path / "study.html"
    assert main(["report", str(tmp_path / "s.sqlite"), "-o", str(page)]) == 0
    pixels, console = screenshot(page, tmp_path)
    assert console == []
    assert color_pixels(pixels, "#c44e52", tol=0.05) > 50  # the Pareto set: circles and small-multiple dots
