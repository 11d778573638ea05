"""The coordinator's notebook (notebooks/review.ipynb) and the library helpers it calls (report.explore).

The notebook is executed for real, in a Jupyter kernel of this interpreter,
against a copy of the demo day: every cell must run, the planted people must
appear, the charts must come out as PNGs. The committed file must hold no
outputs (they would be personal data) and its cells must compute nothing the
library does not.
"""

from __future__ import annotations

import json
import re
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from filterlog import findings as store
from filterlog import incidents
from filterlog.report import explore
from filterlog.rules.model import RULE_IDS
from filterlog.schema import SEVERITIES
from filterlog.workspace import Workspace

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "review.ipynb"


# the committed file ----------------------------------------------------------
def _cells() -> list[dict[str, Any]]:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def _code() -> list[str]:
    return ["".join(c["source"]) for c in _cells() if c["cell_type"] == "code"]


def test_committed_notebook_has_no_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], cell["source"]
            assert cell["execution_count"] is None, cell["source"]
        assert "attachments" not in cell


def test_first_code_cell_holds_the_parameters() -> None:
    first = _code()[0]
    assert 'os.environ.get("FILTERLOG_WORKSPACE", "filterlog-demo/workspace")' in first
    for name in ("DATE_FROM", "DATE_TO", "USER", "RULE"):
        assert re.search(rf"^{name} = None\b", first, re.M), name


def test_cells_call_the_library_instead_of_computing() -> None:
    """Aggregation and drawing belong in filterlog, where the review report shares them."""
    source = "\n".join(_code())
    for banned in ("groupby", "crosstab", "pivot", "resample", ".agg(", "pyarrow", "matplotlib.", "plt.", "ax."):
        assert banned not in source, banned
    assert "explore.load(" in source and "plots.person_hours(" in source


# executing it ----------------------------------------------------------------
def _execute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workspace: Path, **params: object):
    """Run the notebook in a python3 kernel; ``params`` are set in a cell after the parameters cell."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("FILTERLOG_WORKSPACE", str(workspace))  # the kernel inherits the environment
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if params:
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        text = "\n".join(f"{k} = {v!r}" for k, v in params.items())
        nb.cells.insert(first + 1, nbformat.v4.new_code_cell(text))
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    return nb


def _outputs(nb) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _text(nb) -> str:
    parts = []
    for out in _outputs(nb):
        assert out["output_type"] != "error", out
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def _pngs(nb) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def _planted(demo_day) -> dict[str, list[str]]:
    key = json.loads(Path(demo_day.day.planted).read_text())["rules"]
    return {rule: [p["user"] for p in entries["planted"]] for rule, entries in key.items()}


@pytest.mark.slow
def test_notebook_runs_on_the_demo_day(demo_day, demo_ws: Workspace, tmp_path: Path, monkeypatch) -> None:
    found = store.read(demo_ws)
    reports = sorted((demo_ws.root / "reports").glob("*"))  # the demo's own batch reports
    summary = explore.load(demo_ws).summary
    first = summary.column("user")[0].as_py()
    decided = found.column("finding_id")[0].as_py()
    incidents.record(demo_ws, decided, reviewed_by="Ms Reviewer", action="advice", outcome="spoke to them")
    demo_ws.close()

    nb = _execute(tmp_path, monkeypatch, demo_ws.root)
    text = _text(nb)
    for rule, users in _planted(demo_day).items():
        for user in users:
            assert user in text, (rule, user)
    assert f"person: {first}" in text  # USER None: the first person of the summary
    assert f"{found.num_rows} of {found.num_rows} findings match" in text
    assert f"{found.num_rows - 1} of {found.num_rows} findings have no recorded outcome" in text
    assert "Ms Reviewer" in text and decided in text  # the register's listing
    assert "not written (REVIEW_OUT is None)" in text
    assert _pngs(nb) == 6  # findings by rule, the person's three, the school's two
    assert sorted((demo_ws.root / "reports").glob("*")) == reports  # the notebook wrote nothing


@pytest.mark.slow
def test_notebook_parameters_filter(demo_day, demo_ws: Workspace, tmp_path: Path, monkeypatch) -> None:
    user = _planted(demo_day)["circumvention"][0]
    out = tmp_path / "out" / "review.html"
    out.parent.mkdir(mode=0o700)
    found = store.read(demo_ws)
    day = found.column("date")[0].as_py().isoformat()
    theirs = explore.filter_findings(found, user=user, rule="circumvention").num_rows
    demo_ws.close()

    nb = _execute(
        tmp_path, monkeypatch, demo_ws.root,
        USER=user.upper(), RULE="circumvention", DATE_FROM=day, DATE_TO=day, REVIEW_OUT=str(out),
    )  # fmt: skip
    text = _text(nb)
    assert theirs >= 1
    assert f"{theirs} of {found.num_rows} findings match" in text
    assert f"person: {user}\n" in text  # found in any case, so the charts find their requests
    assert _pngs(nb) == 6
    assert f"review written to {out}" in text
    assert user in out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# the helpers -----------------------------------------------------------------
@pytest.fixture(scope="module")
def view(demo_day):
    ws = Workspace(demo_day.workspace)
    yield explore.load(ws)
    ws.close()


def test_load_reads_the_last_date_by_default(view) -> None:
    assert view.date_from == view.date_to == view.days[-1]
    assert view.findings.num_rows == store.read(view.ws).num_rows > 0
    assert view.people == view.summary.column("user").to_pylist()
    assert explore.load(view.ws, view.date_from.isoformat(), str(view.date_to)).findings.equals(view.findings)


def test_filter_by_user_any_case_or_address(view) -> None:
    user = view.people[0]
    mine = explore.filter_findings(view.findings, user=f" {user.upper()} ")
    assert mine.num_rows >= 1 and set(mine.column("user").to_pylist()) == {user}
    address = mine.column("client_ip")[0].as_py()
    by_address = explore.filter_findings(view.findings, user=address)
    assert set(mine.column("finding_id").to_pylist()) <= set(by_address.column("finding_id").to_pylist())
    assert explore.filter_findings(view.findings, user="nobody.here").num_rows == 0


def test_filter_by_rule_severity_and_date(view) -> None:
    everything = explore.filter_findings(view.findings)
    assert everything.num_rows == view.findings.num_rows
    some = explore.filter_findings(view.findings, rule=["circumvention", "live-feed"])
    assert set(some.column("rule").to_pylist()) == {"circumvention", "live-feed"}
    serious = explore.filter_findings(view.findings, severity="high")
    assert set(serious.column("severity").to_pylist()) <= {"high", "critical"}
    counts = explore.by_rule(view.findings)
    assert serious.num_rows == counts.loc["all rules", "high"] + counts.loc["all rules", "critical"]
    day = view.days[-1]
    assert (
        explore.filter_findings(view.findings, date_from=day, date_to=day.isoformat()).num_rows == everything.num_rows
    )
    later = day + timedelta(days=1)
    assert explore.filter_findings(view.findings, date_from=later).num_rows == 0


def test_person_names_whom_the_user_parameter_means(view) -> None:
    first = view.people[0]
    assert explore.person(view) == first
    assert explore.person(view, f" {first.upper()}") == first
    address = explore.filter_findings(view.findings, user=first).column("client_ip")[0].as_py()
    assert explore.person(view, address) == first
    assert explore.person(view, "Not.Flagged") == "not.flagged"
    assert explore.person(view, "10.9.9.9") == "10.9.9.9"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rule": "circumvent"}, "unknown rule 'circumvent'"),
        ({"severity": "severe"}, "unknown severity 'severe'"),
        ({"date_from": "18/11/2026"}, "is not a date"),
    ],
)
def test_bad_filters_say_what_is_allowed(view, kwargs, message) -> None:
    with pytest.raises(explore.ExploreError, match=message):
        explore.filter_findings(view.findings, **kwargs)


def test_by_rule_counts_every_rule_and_severity(view) -> None:
    table = explore.by_rule(view.findings)
    assert list(table.index) == [*RULE_IDS, "all rules"]
    assert list(table.columns) == [*SEVERITIES, "total"]
    assert table.loc["all rules", "total"] == view.findings.num_rows
    circumvention = explore.filter_findings(view.findings, rule="circumvention").num_rows
    assert table.loc["circumvention", "total"] == circumvention
    assert explore.by_rule(view.findings.slice(0, 0)).loc["all rules", "total"] == 0


def test_frames_for_reading(view) -> None:
    frame = explore.findings_frame(view.findings, "Europe/London")
    assert list(frame.columns) == explore.FINDING_COLUMNS and len(frame) == view.findings.num_rows
    assert frame["finding_id"].str.len().eq(explore.ID_CHARS).all()
    assert str(frame["start"].dt.tz) == "Europe/London"
    summary = explore.summary_frame(view.summary, "Europe/London")
    assert summary["user"].tolist() == view.people
    assert not [rule for rule in RULE_IDS if rule in summary and not summary[rule].any()]
    rules = explore.rules_frame(view.ws)
    assert list(rules.index) == list(RULE_IDS) and rules["policy"].str.len().gt(20).all()
    assert list(explore.rules_frame(view.ws, ["live-feed"]).index) == ["live-feed"]


def test_evidence_frame_shows_the_proving_lines(view) -> None:
    mine = explore.filter_findings(view.findings, user=view.people[0])
    frame = explore.evidence_frame(view.ws, mine, per_finding=2)
    assert len(frame) >= 1
    assert set(frame["finding_id"]) <= {f[: explore.ID_CHARS] for f in mine.column("finding_id").to_pylist()}
    proving = {e["source_line"] for row in mine.column("evidence").to_pylist() for e in row}
    assert set(frame["source_line"]) <= proving
    assert frame.groupby("finding_id").size().max() <= 2


def test_queue_is_every_finding_until_one_is_decided(demo_ws: Workspace) -> None:
    assert explore.queue(demo_ws).num_rows == store.read(demo_ws).num_rows
    first = store.read(demo_ws).column("finding_id")[0].as_py()
    incidents.record(demo_ws, first, reviewed_by="r", action="no-action", outcome="fine")
    left = explore.queue(demo_ws)
    assert first not in left.column("finding_id").to_pylist()
    assert left.num_rows == store.read(demo_ws).num_rows - 1


def test_notebook_tables_escape_log_text(view) -> None:
    """A notebook shows frames as HTML: a hostile string from a log must arrive as text."""
    found = view.findings.slice(0, 1)
    hostile = "<script>alert(1)</script>"
    index = found.schema.get_field_index("detail")
    found = found.set_column(index, "detail", pa.array([hostile], pa.string()))
    html = explore.findings_frame(found)._repr_html_()
    assert "&lt;script&gt;" in html and hostile not in html
