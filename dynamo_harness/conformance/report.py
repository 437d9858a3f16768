"""Three views of one list of ProbeResults: a console summary, JUnit XML and an HTML report
(self-contained: inline CSS and an inline SVG plot of the latency percentiles)."""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from ..kube import simulated
from ..kube_api import NODE, KubeApi, KubeApiError
from ..paths import chart_metadata
from ..results import ProbeResult, Status

MARK = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.SKIP: "skip"}


def run_header(api: KubeApi | None = None) -> dict[str, str]:
    """What a report reader needs to place a run: chart and Dynamo versions, the cluster's Kubernetes
    version and nodes (real or simulated), and the date."""
    chart = chart_metadata()
    header = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "chart": f"{chart['name']} {chart['version']}", "Dynamo": chart["appVersion"]}
    if api is not None:
        try:
            header["Kubernetes"] = api.server_version()
            nodes = api.items(NODE)
        except (KubeApiError, KeyError, ValueError) as err:
            header["Kubernetes"] = f"unreachable ({str(err).strip().splitlines()[-1][:120]})"
        else:
            fake = sum(simulated(n) for n in nodes)
            header["nodes"] = f"{len(nodes)}: {len(nodes) - fake} real, {fake} simulated (kwok)"
    return header


def progress_line(result: ProbeResult) -> str:
    reason = f"  {result.reason}" if result.reason else ""
    return f"  {MARK[result.status]:4}  {result.name:32} {result.seconds * 1000:8.1f} ms{reason}"


def summary(results: list[ProbeResult]) -> str:
    counts = Counter(r.status for r in results)
    line = f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped"
    failing = [f"  FAIL {r.name}: {r.reason}" for r in results if r.status is Status.FAIL]
    return "\n".join([*failing, line])


def junit(results: list[ProbeResult], path: Path) -> None:
    counts = Counter(r.status for r in results)
    suite = ET.Element("testsuite", name="dynamo-conformance", tests=str(len(results)),
                       failures=str(counts[Status.FAIL]), skipped=str(counts[Status.SKIP]),
                       time=f"{sum(r.seconds for r in results):.3f}")
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"conformance.{r.component}", name=r.name, time=f"{r.seconds:.3f}")
        if r.status is Status.FAIL:
            ET.SubElement(case, "failure", message=r.reason)
        elif r.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=r.reason)
        if r.figures:
            ET.SubElement(case, "system-out").text = "\n".join(f"{k}={v}" for k, v in r.figures.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)


def load_runs(results: list[ProbeResult]) -> list[dict]:
    return sorted((r.figures for r in results if r.name.startswith("inference/load-") and r.figures),
                  key=lambda f: f["concurrency"])


NO_SUCCESS = "no successful request"


def _percentiles(figures: dict, key: str) -> str:
    values = [figures[f"{key}_p{q}"] for q in (50, 90, 99)]
    if all(v is None for v in values):
        return NO_SUCCESS
    return "/".join("-" if v is None else str(v) for v in values)


def latency_table(results: list[ProbeResult]) -> list[list[str]]:
    runs = load_runs(results)
    if not runs:
        return []
    head = ["concurrency", "requests", "errors", "TTFT p50/p90/p99 ms", "ITL p50/p90/p99 ms",
            "latency p50/p90/p99 ms", "tokens/s", "requests/s"]
    rows = [
        [str(f["concurrency"]), str(f["requests"]), str(f["errors"]),
         _percentiles(f, "ttft_ms"), _percentiles(f, "itl_ms"), _percentiles(f, "latency_ms"),
         str(f["output_tokens_per_s"]), str(f["requests_per_s"])]
        for f in runs
    ]
    return [head, *rows]


def latency_table_markdown(results: list[ProbeResult]) -> list[str]:
    table = latency_table(results)
    if not table:
        return []
    return ["", "## Latency under load", "", "| " + " | ".join(table[0]) + " |", "|" + " --- |" * len(table[0]),
            *("| " + " | ".join(row) + " |" for row in table[1:])]


def header_lines(header: dict[str, str]) -> list[str]:
    return [f"- {key}: {value}" for key, value in header.items()]


def markdown(results: list[ProbeResult], title: str, header: dict[str, str] | None = None) -> str:
    lines = [f"# {title}", "", *header_lines(header or {}), "", summary(results).splitlines()[-1], "",
             "| status | probe | time ms | detail |", "| --- | --- | --- | --- |"]
    lines += [f"| {MARK[r.status]} | {r.name} | {r.seconds * 1000:.1f} | {r.reason.replace('|', '/')} |" for r in results]
    return "\n".join(lines + latency_table_markdown(results)) + "\n"


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round axis steps (1, 2 or 5 times a power of ten) from 0 to at least `top`."""
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [step * i for i in range(math.ceil(top / step) + 1)]


def svg_plot(results: list[ProbeResult], width: int = 640, height: int = 280) -> str:
    """Grouped bars: p50 and p99 of TTFT and request latency per concurrency, on a ticked ms axis."""
    runs = load_runs(results)
    if not runs:
        return ""
    series = [("ttft_ms_p50", "TTFT p50", "#4e79a7"), ("ttft_ms_p99", "TTFT p99", "#a0cbe8"),
              ("latency_ms_p50", "latency p50", "#f28e2b"), ("latency_ms_p99", "latency p99", "#ffbe7d")]
    measured = [f[key] for f in runs for key, _, _ in series if f[key] is not None]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">']
    if not measured:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">{NO_SUCCESS}: nothing to plot</text></svg>')
        return "".join(parts)
    ticks = _ticks(max(measured) or 1)
    top = ticks[-1]
    left, bottom, plot_h = 60, height - 40, height - 70
    group_w = (width - left - 10) / len(runs)
    bar_w = group_w * 0.8 / len(series)
    parts += [f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#333"/>',
              f'<line x1="{left}" y1="{bottom}" x2="{left}" y2="{bottom - plot_h}" stroke="#333"/>',
              '<text x="5" y="15">ms</text>']
    for tick in ticks:
        y = bottom - tick / top * plot_h
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#333"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    for i, f in enumerate(runs):
        x0 = left + i * group_w + group_w * 0.1
        for j, (key, _, color) in enumerate(series):
            value = f[key] or 0
            h = value / top * plot_h
            parts.append(f'<rect x="{x0 + j * bar_w:.1f}" y="{bottom - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                         f'fill="{color}"><title>{key} c={f["concurrency"]}: {f[key] if f[key] is not None else NO_SUCCESS}</title></rect>')
        label = f"concurrency {f['concurrency']}" + ("" if f["latency_ms_p50"] is not None else f" ({NO_SUCCESS})")
        parts.append(f'<text x="{left + i * group_w + group_w / 2:.1f}" y="{bottom + 15}" text-anchor="middle">{label}</text>')
    for j, (_, label, color) in enumerate(series):
        parts.append(f'<rect x="{left + j * 120}" y="{height - 15}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + j * 120 + 14}" y="{height - 6}">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(results: list[ProbeResult], title: str, header: dict[str, str] | None = None) -> str:
    esc = html.escape
    rows = "".join(
        f'<tr class="{r.status.value}"><td>{MARK[r.status]}</td><td>{esc(r.name)}</td>'
        f"<td>{r.seconds * 1000:.1f}</td><td>{esc(r.reason)}</td></tr>"
        for r in results
    )
    table = latency_table(results)
    load = ""
    if table:
        load = ("<h2>Latency under load</h2><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in table[0]) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in table[1:])
                + "</table>" + svg_plot(results))
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:4px 8px;text-align:left}tr.fail td{background:#fdd}tr.skip td{color:#777}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{style}</style></head>"
            f"<body><h1>{esc(title)}</h1><ul>{''.join(f'<li>{esc(k)}: {esc(v)}</li>' for k, v in (header or {}).items())}</ul>"
            f"<p>{esc(summary(results).splitlines()[-1])}</p>"
            f"<table><tr><th>status</th><th>probe</th><th>time ms</th><th>detail</th></tr>{rows}</table>{load}</body></html>")


def write_all(results: list[ProbeResult], directory: Path, *, stem: str = "conformance", title: str = "Dynamo conformance",
              header: dict[str, str] | None = None) -> dict[str, Path]:
    """The JUnit, Markdown and HTML views of one run, as <directory>/<stem>.{xml,md,html}."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"junit": directory / f"{stem}.xml", "markdown": directory / f"{stem}.md", "html": directory / f"{stem}.html"}
    junit(results, paths["junit"])
    paths["markdown"].write_text(markdown(results, title, header))
    paths["html"].write_text(html_report(results, title, header))
    return paths
