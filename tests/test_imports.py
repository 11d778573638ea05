"""What a command imports before it works: heavy libraries only where they are used.

pandas costs 0.2-0.4 s to import, Dask more: every ingest command and every
Dask worker's first task would pay them, though parsing needs neither.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import filterlog.enrich as enrich


def _loaded(code: str) -> set[str]:
    """Top-level modules loaded in a fresh interpreter after ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_ingest_path_does_not_import_pandas_or_dask() -> None:
    loaded = _loaded("import filterlog.cli, filterlog.ingest, filterlog.ingest.worker, filterlog.ingest.pipeline")
    assert "pyarrow" in loaded
    assert not loaded & {"pandas", "dask", "distributed", "tldextract"}


def test_detect_imports_pandas() -> None:  # the probe can see pandas when it is there
    assert "pandas" in _loaded("import filterlog.rules.engine")


@pytest.mark.parametrize("name", enrich.__all__)
def test_the_enrich_package_names_load_on_first_use(name: str) -> None:
    assert callable(getattr(enrich, name))


def test_the_enrich_package_refuses_unknown_names() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = enrich.nothing  # type: ignore[attr-defined]
