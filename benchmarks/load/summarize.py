"""Markdown table from a load run's locust CSVs (run.sh writes them): per page and the ratio."""

import csv
import sys
from pathlib import Path

GOAL_P95_MS = 100


def rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["Name"]: r for r in csv.DictReader(path.open())}


def main() -> int:
    out = Path(sys.argv[1])
    portal, bare = rows(out / "portal_stats.csv"), rows(out / "bare_stats.csv")
    lines = ["| Page | Requests | Failures | req/s | p50 ms | p95 ms | p99 ms | Bytes "
             "| p95 < 100 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    reads = 0.0
    for name, r in [*portal.items(), ("bare page", bare["bare page"])]:
        if (name.startswith(("sign-in", "warm-up")) or name == "Aggregated"
                or int(r["Request Count"]) == 0):
            continue
        if name != "bare page" and r["Type"] == "GET":
            reads += float(r["Requests/s"])
        ok = "yes" if float(r["95%"]) < GOAL_P95_MS else "**no**"
        lines.append(f"| {name} | {r['Request Count']} | {r['Failure Count']} | "
                     f"{float(r['Requests/s']):.1f} | {r['50%']} | {r['95%']} | {r['99%']} | "
                     f"{float(r['Average Content Size']):.0f} | {ok} |")
    agg = portal["Aggregated"]
    bare_rps = float(bare["bare page"]["Requests/s"])
    think = (out / "think.txt").read_text().strip() if (out / "think.txt").exists() else ""
    lines += ["", f"Portal, all requests: {float(agg['Requests/s']):.1f} req/s "
              f"(p50 {agg['50%']} ms, p95 {agg['95%']} ms, p99 {agg['99%']} ms, "
              f"{agg['Failure Count']} failures)."]
    rss = out / "portal-rss-kb.txt"
    samples = [int(x) for x in rss.read_text().split()] if rss.exists() else []
    if samples:
        lines.append(f"Memory: gunicorn master and workers together peaked at "
                     f"{max(samples) / 1024:.0f} MiB resident ({len(samples)} samples).")
    if think:
        # Users pausing between pages: throughput is set by the pauses, not the server.
        lines.append(f"Users paused {think.replace(',', ' to ')} s between pages, so the "
                     f"throughput ratio to the bare page (saturated) is not meaningful here.")
    else:
        lines.append(f"Portal reads (GET rows): {reads:.1f} req/s; bare page: {bare_rps:.1f} "
                     f"req/s; ratio {reads / bare_rps:.3f} (goal >= 0.5); all portal requests "
                     f"/ bare: {float(agg['Requests/s']) / bare_rps:.3f}.")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
