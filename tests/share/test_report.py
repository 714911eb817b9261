"""`mmtop report`: one self-contained HTML file for runs or a model version.

The page is parsed with the standard library's HTML parser into a tree whose nesting is
checked; plot points are read back from the SVG and mapped to data with the chart's own
data range, then compared with the store's histories.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.tui.cli import main

VOID = {"meta", "link", "br", "hr", "img", "input", "area", "base", "col", "source", "wbr"}
SVG_VOID = {"rect", "line", "polyline", "path", "circle"}
HOSTILE = "<script>alert(1)</script>\"'&[bold red]x[/]"


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def find(self, tag: str) -> list[Node]:
        found = [self] if self.tag == tag else []
        for child in self.children:
            found.extend(child.find(tag))
        return found

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)

    def walk(self) -> list[Node]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


class TreeBuilder(HTMLParser):
    """A strict parse: every element closes in order (void and self-closed SVG aside)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].text.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert [n.tag for n in builder.stack] == ["#document"], "unclosed elements"
    return builder.root


def report(root: Path, *refs: str, out: Path) -> Node:
    assert main(["report", "--root", str(root), *refs, "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    return parse(html)


def legend(doc: Node) -> list[str]:
    (ul,) = [n for n in doc.find("ul") if n.attrs.get("id") == "legend"]
    return [li.all_text() for li in ul.find("li")]


def plotted(doc: Node) -> dict[str, dict[int, list[tuple[float, float]]]]:
    """chart title -> legend index -> (step, value) points read back from the SVG."""
    out: dict[str, dict[int, list[tuple[float, float]]]] = {}
    for svg in doc.find("svg"):
        if "data-x0" not in svg.attrs:
            continue
        x0, x1, y0, y1 = (float(svg.attrs[k]) for k in ("data-x0", "data-x1", "data-y0", "data-y1"))
        left, top, width, height = (float(v) for v in svg.attrs["data-plot"].split())
        title = next(t.all_text() for t in svg.find("text") if t.attrs.get("class") == "title")
        lines: dict[int, list[tuple[float, float]]] = {}
        for poly in svg.find("polyline"):
            points = lines.setdefault(int(poly.attrs["data-series"]), [])
            for pair in poly.attrs["points"].split():
                px, py = (float(v) for v in pair.split(","))
                step = x0 + (px - left) / width * (x1 - x0)
                value = y1 - (py - top) / height * (y1 - y0)
                points.append((step, value))
        out[title] = lines
    return out


def test_the_sample_runs_report_holds_each_run_once_and_the_stores_values(
    samples: Path, tmp_path: Path
) -> None:
    st = store.open(samples, cache=False)
    runs = st.runs()
    ids = runs["run_id"].to_list()
    doc = report(samples, *ids, out=tmp_path / "report.html")
    names = runs["name"].to_list()
    assert len(set(names)) == len(names)  # the samples' names are unique: no id suffixes
    shown = legend(doc)
    assert sorted(shown) == sorted(names)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    plots = plotted(doc)
    assert set(plots) >= {"val/acc", "train/loss"}
    order = {name: i for i, name in enumerate(shown)}
    history = st.history(ids, keys=list(plots))
    by_id = dict(zip(ids, names, strict=True))
    checked = 0
    for (run_id, key), part in history.group_by("run_id", "key"):
        stored = [
            (float(s), float(v))
            for s, v in zip(part["step"], part["value"], strict=True)
            if math.isfinite(v)
        ]
        drawn = sorted(plots[str(key)].get(order[by_id[str(run_id)]], []))
        assert len(drawn) == len(stored), (key, by_id[str(run_id)])
        for (ds, dv), (ss, sv) in zip(drawn, sorted(stored), strict=True):
            assert ds == pytest.approx(ss, rel=1e-9, abs=1e-9)
            assert dv == pytest.approx(sv, rel=1e-9, abs=1e-9)
            checked += 1
    assert checked > 500
    assert "<script" not in html.lower()


def hostile_store(root: Path) -> tuple[str, str]:
    with store.Run(
        experiment="attack",
        name=HOSTILE,
        params={
            "<img src=x onerror=alert(1)>": '"><script>alert(2)</script>',
            "url": "javascript:alert(3)",
        },
        tags=['"onmouseover="alert(4)', "[link=https://evil.example]x[/link]"],
        root=root,
    ) as run:
        for step in range(5):
            run.log({"<b>acc</b>": step / 4, "loss": 1 / (step + 1)}, step=step)
        run.log_confusion_matrix(["<i>cat</i>", "dog"], ["dog", "dog"], name="<u>val")
        run.note("see <script>alert(5)</script> and [red]markup[/]\n\x1b[31mred\x1b[0m")
    with store.Run(experiment="attack", name="plain", params={"lr": 0.1}, root=root) as other:
        other.log({"loss": 0.5}, step=0)
    return run.run_id, other.run_id


def assert_inert(doc: Node, html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<b>acc" not in lowered
    assert "\x1b" not in html
    for node in doc.walk():
        assert node.tag not in ("script", "img", "iframe", "object", "embed", "a", "link")
        for name, value in node.attrs.items():
            assert not name.startswith("on"), (node.tag, name)
            assert "javascript:" not in value and "alert" not in value, (node.tag, name, value)
            if name in ("src", "href"):
                pytest.fail(f"<{node.tag} {name}={value!r}> would fetch")
    (meta,) = [m for m in doc.find("meta") if m.attrs.get("http-equiv")]
    assert meta.attrs["content"].startswith("default-src 'none'")


def test_run_text_is_shown_as_text_never_as_markup(root: Path, tmp_path: Path) -> None:
    bad, plain = hostile_store(root)
    out = tmp_path / "hostile.html"
    doc = report(root, bad, plain, out=out)
    html = out.read_text(encoding="utf-8")
    assert_inert(doc, html)
    assert legend(doc) == [HOSTILE, "plain"]
    text = doc.all_text()
    assert "<img src=x onerror=alert(1)>" in text  # the param key, as text
    assert '"><script>alert(2)</script>' in text
    assert "see <script>alert(5)</script> and [red]markup[/]" in text
    assert "<b>acc</b>" in plotted(doc)
    assert "<i>cat</i>" in text and "<u>val" in text


def test_one_run_report_and_its_confusion_matrix(samples: Path, tmp_path: Path) -> None:
    st = store.open(samples, cache=False)
    with_cm = [r for r in st.runs()["run_id"].to_list() if _confusion_of(st, r) is not None]
    assert with_cm, "the samples log confusion matrices"
    info = st.run(with_cm[0])
    doc = report(samples, with_cm[0], out=tmp_path / "one.html")
    assert legend(doc) == [info.name]
    (h1,) = doc.find("h1")
    assert h1.all_text() == f"run {info.experiment}/{info.name}"
    heat = [t for t in doc.find("table") if t.attrs.get("class") == "heat"]
    assert heat
    cm = info.confusion_matrix()
    cells = [int(td.all_text()) for td in heat[0].find("td")]
    assert cells == [c for row in cm.matrix for c in row]


def _confusion_of(st: Any, run_id: str) -> Any:
    try:
        return st.run(run_id).confusion_matrix()
    except (store.StoreError, OSError, KeyError, ValueError):
        return None


def test_model_version_report(root: Path, tmp_path: Path) -> None:
    bad, _ = hostile_store(root)
    st = store.open(root)
    weights = tmp_path / "model.onnx"
    weights.write_bytes(b"not really onnx")
    first = st.register_model("clf", run=bad, path=weights, description=HOSTILE)
    second = st.register_model(
        "clf", run=bad, path=weights, parent="clf/1", description=f"v2 {HOSTILE}"
    )
    st.set_alias("clf", "champion", first.version)
    st.set_alias("clf", "champion", second.version)
    out = tmp_path / "model.html"
    doc = report(root, "clf@champion", out=out)
    html = out.read_text(encoding="utf-8")
    assert_inert(doc, html)
    text = doc.all_text()
    (h1,) = doc.find("h1")
    assert h1.all_text() == "model clf/2"
    headings = [h.all_text() for h in doc.find("h2")]
    assert headings == [
        "Model version",
        "Metrics at registration",
        "Params",
        "Data",
        "Lineage",
        "History",
        "Deployments",
        "Training run",
    ]
    assert f"v2 {HOSTILE}" in text
    assert "alias @champion: 1 → 2 ◀" in text and "alias @champion: (none) → 1" in text
    assert legend(doc) == [HOSTILE]
    assert "<b>acc</b>" in plotted(doc)


def test_a_model_ref_with_runs_is_refused(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, plain = hostile_store(root)
    st = store.open(root)
    st.register_model("clf", run=bad, path=Path(st.run(bad).path) / "run.json")
    assert main(["report", "--root", str(root), "clf/1", plain]) == 2
    assert capsys.readouterr().err == (
        "mmtop: error: a model report takes one model version; runs are reported apart\n"
    )


def test_a_run_name_with_an_at_sign_is_a_run(root: Path, tmp_path: Path) -> None:
    with store.Run(experiment="nlp", name="bert@lr0.1", root=root) as run:
        run.log({"loss": 1.0}, step=0)
    doc = report(root, "bert@lr0.1", out=tmp_path / "bert.html")
    (h1,) = doc.find("h1")
    assert h1.all_text() == "run nlp/bert@lr0.1"


async def test_chromium_renders_the_report(samples: Path, tmp_path: Path, chromium: Any) -> None:
    ids = store.open(samples, cache=False).runs()["run_id"].to_list()[:4]
    out = tmp_path / "report.html"
    report(samples, *ids, out=out)
    image = await chromium.screenshot(
        out.as_uri(), (1200, 900), "document.readyState === 'complete'"
    )
    colours = image.colours()
    top = max(colours.values())
    assert len(colours) > 16 and top < 0.95 * image.width * image.height, (len(colours), top)


def test_a_monitored_model_shows_its_deployments_and_a_drift_heatmap(
    root: Path, tmp_path: Path
) -> None:
    import datetime as dt

    import numpy as np
    import polars as pl
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = ["f0", "<b>f1</b>", "f2"]
    x = rng.normal(size=(8000, 3))
    y = (x[:, 0] + x[:, 2] > 0).astype(int)
    frame = pl.DataFrame(x, schema=features)
    model = LogisticRegression().fit(x[:1000], y[:1000])
    with store.Run("clf", root=root, capture_system=False, capture_code=False) as run:
        run.log_model(model, "clf", baseline=frame[1000:2000], baseline_y=y[1000:2000])
    st = store.open(root)
    st.deploy("clf/1", "prod")
    day0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with store.monitor("clf", "prod", root=root) as mon:
        for w in range(3):
            part = frame[2000 + w * 2000 : 2000 + (w + 1) * 2000]
            if w == 2:
                part = part.with_columns(pl.col("f0") + 3.0)  # the last day drifts on f0
            mon.log(part, model.predict(part.to_numpy()), time=day0 + dt.timedelta(days=w))
    out = tmp_path / "monitored.html"
    doc = report(root, "clf/1", out=out)
    assert_inert(doc, out.read_text(encoding="utf-8"))
    headings = [h.all_text() for h in doc.find("h2")]
    assert headings == [
        "Model version", "Metrics at registration", "Params", "Data", "Lineage", "History",
        "Deployments", "Monitoring", "Training run",
    ]  # fmt: skip
    text = doc.all_text()
    assert "clf at prod: alert" in text
    (heat,) = [t for t in doc.find("table") if t.attrs.get("class") == "heat drift"]
    rows = {tr.find("th")[0].all_text(): tr.find("td") for tr in heat.find("tbody")[0].find("tr")}
    assert list(rows)[0] == "f0"  # the drifted feature first
    assert set(rows) == set(features)
    levels = {name: [float(td.all_text()) for td in cells] for name, cells in rows.items()}
    assert levels["f0"][2] > 1 and max(levels["f0"][:2]) < 1
    assert all(v < 1 for name in ("<b>f1</b>", "f2") for v in levels[name])
    st.undeploy("clf", "prod", note="moved")
    ended = report(root, "clf/1", out=tmp_path / "ended.html")
    (timeline,) = [
        t
        for t in ended.find("table")
        if [th.all_text() for th in t.find("th")][:4] == ["time", "target", "version", "replaced"]
    ]
    cells = [[td.all_text() for td in tr.find("td")] for tr in timeline.find("tbody")[0].find("tr")]
    assert [c[1:4] + c[7:] for c in cells] == [
        ["prod", "clf/1", "", ""],
        ["prod", "(undeployed)", "clf/1", "moved"],
    ]
