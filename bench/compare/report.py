"""The comparison's figures as text, Markdown tables, goal verdicts and plots.

``write_docs`` rewrites only the part of docs/bench-compare.md between the
``GENERATED`` markers (the analysis around it is written by hand) and the
PNG plots under docs/bench/.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import machine
from bench.compare.workloads import CHDB, DUCKDB, POSTGRES, STREAMGAUGE

BEGIN, END = "<!-- GENERATED: begin -->", "<!-- GENERATED: end -->"
PG_SERVICE = "PostgreSQL service"
GOALS = {
    "ingest": 10.0,  # streamgauge events/s over the PostgreSQL service's, at least
    "postgres": 5.0,  # PostgreSQL p50 over streamgauge's, at least
    "chdb": 1.5,  # streamgauge p50 over chdb's, at most
    "overhead": 1.2,  # streamgauge p50 over DuckDB direct's, at most
}


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal of issue 9 with its measured ratio and whether it is met."""
    found = []
    ingest = result.get("ingest", {})
    if PG_SERVICE in ingest:
        for fmt in ("json", "ndjson"):
            ratio = _ratio(
                ingest[STREAMGAUGE][fmt]["events_per_s"], ingest[PG_SERVICE][fmt]["events_per_s"]
            )
            found.append(
                {
                    "goal": f"ingest {fmt} ≥ {GOALS['ingest']:g}× the PostgreSQL service",
                    "ratio": ratio,
                    "met": ratio >= GOALS["ingest"],
                }
            )
    for q in result.get("queries", {}).get("questions", []):
        r = q["results"]
        ours = r[STREAMGAUGE]["p50_ms"]
        checks: list[tuple[str, str, float, Callable[[float], bool]]] = [
            (
                POSTGRES,
                "≥ 5× faster than PostgreSQL",
                _ratio(r.get(POSTGRES, {}).get("p50_ms", 0), ours),
                lambda x: x >= GOALS["postgres"],
            ),
            (
                CHDB,
                "within 1.5× of chdb",
                _ratio(ours, r.get(CHDB, {}).get("p50_ms", 0)),
                lambda x: x <= GOALS["chdb"],
            ),
            (
                DUCKDB,
                "API overhead ≤ 1.2× DuckDB direct",
                _ratio(ours, r[DUCKDB]["p50_ms"]),
                lambda x: x <= GOALS["overhead"],
            ),
        ]
        for contender, text, ratio, test in checks:
            if contender in r:
                found.append(
                    {"goal": f"{q['question']}: {text}", "ratio": ratio, "met": test(ratio)}
                )
    return found


def _ingest_rows(ingest: dict[str, Any]) -> list[list[str]]:
    rows = []
    base = ingest[STREAMGAUGE]
    for name in (STREAMGAUGE, PG_SERVICE, "DuckDB read_json", "chdb JSONEachRow"):
        if name not in ingest:
            continue
        figures = ingest[name]
        for fmt in ("json", "ndjson"):
            if fmt not in figures and fmt == "ndjson":
                continue
            one = figures.get(fmt, figures)
            cpu = f"{one['cpu_s_per_million']:.1f}"
            if "database_cpu_s_per_million" in one:
                cpu += f" + {one['database_cpu_s_per_million']:.1f} in PostgreSQL"
            label = f"{name} ({fmt})" if fmt in figures else f"{name} (NDJSON file)"
            ref = base[fmt if fmt in figures else "ndjson"]["events_per_s"]
            rows.append(
                [
                    label,
                    f"{one['events_per_s']:,}",
                    f"{one['events_per_s'] / ref:.2f}",
                    cpu,
                    f"{figures['peak_rss_mib']:,.0f}",
                ]
            )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> str:
    """The generated section: command, machine, versions, one table per workload, goals."""
    parts = [
        f"Command: `{result['command']}` (revision {result['revision']}, {result['wall_s']} s).",
        "",
        f"Machine: `{json.dumps(result.get('machine', machine()))}`",
        "",
        "Versions: "
        + ", ".join(
            v if v.lower().startswith(k.lower()) else f"{k} {v}"
            for k, v in result["versions"].items()
        )
        + ".",
    ]
    for name, reason in result.get("skipped", {}).items():
        parts += ["", f"**{name} skipped**: {reason}."]
    if "ingest" in result:
        ingest = result["ingest"]
        parts += [
            "",
            f"### Ingest: {ingest['events']:,} events in 1,000-event batches",
            "",
            _table(
                ["contender", "events/s", "× streamgauge", "CPU s per million", "peak RSS MiB"],
                _ingest_rows(ingest),
            ),
            "",
            "![ingest throughput](bench/compare-ingest.png)",
        ]
    if "queries" in result:
        queries = result["queries"]
        names = list(queries["contenders"])
        parts += [
            "",
            f"### Queries: {queries['events']:,} events, p50 / p95 ms over "
            f"{queries['repeats']} runs (after one warm-up run)",
            "",
        ]
        rows = []
        for q in queries["questions"]:
            ours = q["results"][STREAMGAUGE]["p50_ms"]
            row = [q["question"]]
            for name in names:
                r = q["results"][name]
                cell = f"{r['p50_ms']:,.1f} / {r['p95_ms']:,.1f}"
                if name != STREAMGAUGE:
                    cell += f" ({r['p50_ms'] / ours:.2f}×, {r['agreement']})"
                row.append(cell)
            rows.append(row)
        parts.append(_table(["question", *names], rows))
        parts += [
            "",
            "(×: the contender's p50 over streamgauge's, above 1 means streamgauge is "
            "faster; exact/close: the answer agrees with streamgauge's exactly, or within "
            "float rounding.)",
            "",
        ]
        parts.append(
            _table(
                ["contender", "load s", "peak RSS MiB"],
                [
                    [
                        name,
                        f"{c['load_s']:,.1f}" if c["load_s"] else "hot store file",
                        f"{c['peak_rss_mib']:,.0f}",
                    ]
                    for name, c in queries["contenders"].items()
                ],
            )
        )
        parts += ["", "![query latency](bench/compare-queries.png)"]
    found = goals(result)
    if found:
        parts += [
            "",
            "### Goals",
            "",
            _table(
                ["goal", "ratio", "met"],
                [[g["goal"], f"{g['ratio']:.2f}", "yes" if g["met"] else "**no**"] for g in found],
            ),
        ]
    return "\n".join(parts)


def text(result: dict[str, Any]) -> str:
    return markdown(result).replace("![", "(plot: ").replace("](", " → ")


def plots(result: dict[str, Any], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if "ingest" in result:
        rows = _ingest_rows(result["ingest"])
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
        values = [float(r[1].replace(",", "")) for r in rows]
        ax.barh([r[0] for r in rows][::-1], values[::-1], color="#3b7dd8")
        ax.set_xscale("log")
        ax.set_xlabel("events per second (log scale)")
        ax.set_title(f"Ingest, {result['ingest']['events']:,} events in 1,000-event batches")
        fig.tight_layout()
        written.append(folder / "compare-ingest.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    if "queries" in result:
        queries = result["queries"]
        names = list(queries["contenders"])
        questions = [q["question"] for q in queries["questions"]]
        fig, ax = plt.subplots(figsize=(10, 5))
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            p50 = [q["results"][name]["p50_ms"] for q in queries["questions"]]
            p95 = [q["results"][name]["p95_ms"] for q in queries["questions"]]
            xs = [n + i * width for n in range(len(questions))]
            ax.bar(xs, p50, width, label=name)
            ax.errorbar(
                xs,
                p50,
                yerr=[[0] * len(p50), [b - a for a, b in zip(p50, p95, strict=True)]],
                fmt="none",
                ecolor="black",
                capsize=2,
                linewidth=0.8,
            )
        ax.set_xticks([n + 0.4 - width / 2 for n in range(len(questions))])
        ax.set_xticklabels([textwrap.fill(q, 18) for q in questions], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("ms, p50 (bar) to p95 (whisker), log scale")
        ax.set_title(f"Query latency on {queries['events']:,} events")
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(folder / "compare-queries.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def write_docs(result: dict[str, Any], docs: Path) -> list[Path]:
    """Plots, and the generated part of bench-compare.md (kept hand-written text)."""
    written = plots(result, docs / "bench")
    page = docs / "bench-compare.md"
    current = (
        page.read_text()
        if page.exists()
        else f"# streamgauge against the alternatives\n\n{BEGIN}\n{END}\n"
    )
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    page.write_text(f"{head}{BEGIN}\n{markdown(result)}\n{END}{tail}")
    return [*written, page]
