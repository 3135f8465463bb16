"""Plain-text tables of the bench's results."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> str:
    """A table with a header rule; columns listed in ``right`` are right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        return "  ".join(padded).rstrip()

    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *(line(r) for r in cells[1:])])


def _units(value: float, index: float = 0.0) -> str:
    return f"{value:g} ({index:g} GSI)" if index else f"{value:g}"


def api_section(results: list[dict[str, Any]], backend: str) -> str:
    rows = []
    for r in results:
        extra = r["extra_round_trips"]
        verdict = "at minimum" if extra == 0 else (f"+{extra}" if extra > 0 else str(extra))
        if not r["consistent_over_repeats"]:
            verdict += f" (varied: {r['all_round_trips']})"
        if r["errors"]:
            verdict += f" errors={r['errors']}"
        rows.append([r["label"], r["described"], r["round_trips"], _units(r["rcu"], r["index_rcu"]),
                     _units(r["wcu"], r["index_wcu"]), f"{r['median_ms']:.1f}", verdict])
    out = [f"DynamoDB calls per request (via the app, against {backend}; "
           f"{results[0]['repeats'] if results else 0} repeats each, counts identical unless noted)",
           table(["request", "round trips", "n", "RCU", "WCU", "ms (median)", "vs minimum"], rows,
                 right=(2, 3, 4, 5)),
           "",
           "Minimums (round trips the data model allows):"]
    by_why: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_why.setdefault(r["minimum_why"], []).append(r)
    for why, group in by_why.items():
        labels = "; ".join(r["label"] for r in group)
        out.append(f"  {labels}\n      {group[0]['minimum_described']}: {why}")
    return "\n".join(out)


def throughput_section(tp: dict[str, Any], backend: str) -> str:
    rows = []
    for name, label in (("login", "login (new users)"), ("bind", "bind (inviter at depth 1)")):
        r = tp[name]
        rows.append([label, tp["n"], f"{r['per_second']:.0f}", f"{r['mean_ms']:.1f}", f"{r['round_trips_per_request']:.2f}",
                     f"{r['share_in_dynamodb'] * 100:.0f}%", r["errors"] or ""])
    return "\n".join([f"Throughput, single thread, through the app against {backend}",
                      table(["request", "n", "per s", "mean ms", "round trips/req", "in DynamoDB calls", "errors"],
                            rows, right=(1, 2, 3, 4, 5))])


def coldstart_section(cs: dict[str, Any]) -> str:
    wall = cs["wall"]
    verdict = "within" if wall["within_target"] else "OVER"
    rows = [["python -c pass", f"{wall['bare_ms']:.0f}"],
            ['python -c "import app"', f"{wall['import_app_ms']:.0f}"],
            ["app - bare", f"{wall['app_minus_bare_ms']:.0f}"]]
    out = [f"Cold start (median wall of {wall['runs']} fresh processes each)",
           table(["command", "ms"], rows, right=(1,)),
           f"app - bare = {wall['app_minus_bare_ms']:.0f} ms: {verdict} the {wall['target_ms']:.0f} ms target",
           "",
           "Deferred by lazy imports: paid by the first request that needs them (median, after import app)",
           table(["step", "ms"], [[name, f"{v['median_ms']:.0f}"] for name, v in cs["deferred"].items()], right=(1,)),
           ""]
    it = cs["importtime"]
    total = it["import_app_cumulative_ms"]
    out.append(f"Most expensive top-level packages of `import app` (-X importtime, self time summed per package, "
               f"median of {it['runs']}; import app cumulative {total:.0f} ms)")
    out.append(table(["package", "modules", "ms", "share"],
                     [[t["package"], t["modules"], f"{t['self_ms']:.1f}", f"{t['self_ms'] / total * 100:.0f}%" if total else ""]
                      for t in it["top"]], right=(1, 2, 3)))
    ours = ", ".join(f"{m['module']} {m['self_ms']:.1f}" for m in it["top_own_modules"])
    out.append(f"heaviest of our own modules (self ms): {ours}")
    return "\n".join(out)
