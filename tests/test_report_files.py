"""Owner-only atomic report files, safe names from hostile text, and the autoescaping templates."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from filterlog.report import charts, templates
from filterlog.report.files import private_dir, safe_name, sha256_file, write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_private_is_owner_only_even_with_an_open_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        out = write_private(tmp_path / "a" / "b" / "report.html", "<p>x</p>")
    finally:
        os.umask(old)
    assert out.read_text() == "<p>x</p>"
    assert _mode(out) == 0o600
    assert _mode(out.parent) == 0o700 and _mode(out.parent.parent) == 0o700
    assert not list(out.parent.glob("*.tmp"))


def test_write_private_replaces_a_world_readable_file(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_private(target, b"new")
    assert target.read_bytes() == b"new" and _mode(target) == 0o600


def test_private_dir_leaves_an_existing_directory_alone(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    assert private_dir(tmp_path) == tmp_path and _mode(tmp_path) == 0o755


def test_sha256_file(tmp_path: Path) -> None:
    path = write_private(tmp_path / "x", b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    "text", ["../../etc/passwd", "/etc/passwd", "..", ".", "", "a/b", "a\\b", "CON", "x\x00y", "ünïcode", ".hidden"]
)
def test_safe_name_never_leaves_the_directory(tmp_path: Path, text: str) -> None:
    name = safe_name(text)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


@given(st.text(max_size=200))
def test_safe_name_is_a_plain_file_name(text: str) -> None:
    name = safe_name(text)
    assert 0 < len(name) <= 69 and name not in (".", "..") and all(c.isalnum() or c in "._-" for c in name)


def test_safe_name_keeps_distinct_inputs_distinct() -> None:
    assert safe_name("alice") == "alice"
    assert safe_name("a/b") != safe_name("a\\b")


def test_templates_escape_everything() -> None:
    env = templates.environment()
    html = env.from_string("{{ x }}|{{ x | printable }}").render(x="<script>alert(1)</script>\x1b[2J")
    raw, clean = html.split("|")
    assert "<script>" not in html and "&lt;script&gt;" in raw
    assert "\x1b" not in clean and clean.endswith("?[2J")


def test_image_takes_only_chart_data_uris() -> None:
    fig, ax = charts.figure()
    ax.bar(["a", "b"], [1, 2])
    tag = templates.image(charts.png_data_uri(fig), alt='a "chart"')
    assert tag.startswith('<img src="data:image/png;base64,') and "&#34;chart&#34;" in tag
    with pytest.raises(ValueError):
        templates.image("javascript:alert(1)", alt="x")


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0 B"), (999, "999 B"), (1500, "1.5 kB"), (250_000_000, "250 MB"), (2.4e9, "2.4 GB")]
)
def test_size(value: int, text: str) -> None:
    assert templates.size(value) == text
