"""Human renderings of the shape report: a rich table for the terminal, and markdown."""

from __future__ import annotations

from typing import Any

from specc.report.summary import Row, Summary, fmt_bytes, fmt_count, fmt_shape

HEADERS = ("Layer", "Type", "Inputs", "Output shape", "Kernel shape", "Params")


def _cells(row: Row) -> tuple[str, ...]:
    inputs = ", ".join(row.inputs) if row.show_inputs else ""
    return (row.name, row.type, inputs, fmt_shape(row.output_shape), fmt_shape(row.kernel_shape), fmt_count(row.params))


def _totals(summary: Summary) -> list[tuple[str, str]]:
    return [
        ("Total params", fmt_count(summary.params)),
        ("Trainable params", fmt_count(summary.trainable_params)),
        ("Non-trainable params", fmt_count(summary.non_trainable_params)),
        ("Weight memory (float32)", fmt_bytes(summary.weight_bytes)),
    ]


def _caption(summary: Summary) -> str:
    layout = "(k..., C_in/groups, C_out)" if summary.layout == "keras" else "(C_out, C_in/groups, k...)"
    ins = ", ".join(f"{n} {fmt_shape(s)}" for n, s in summary.inputs)
    return f"inputs: {ins}; kernel layout {summary.layout} {layout}; shapes exclude the batch axis"


def rich_table(summary: Summary) -> Any:
    """A rich renderable: the layer table with a totals block beneath."""
    from rich.console import Group
    from rich.table import Table

    show_inputs = any(r.show_inputs for r in summary.rows)
    table = Table(title=f"{summary.name}", caption=_caption(summary), title_style="bold", caption_justify="left")
    for h in HEADERS:
        if h == "Inputs" and not show_inputs:
            continue
        table.add_column(h, justify="right" if h == "Params" else "left", no_wrap=h != "Inputs")
    for row in summary.rows:
        cells = list(_cells(row))
        if not show_inputs:
            del cells[2]
        table.add_row(*cells)
    totals = Table.grid(padding=(0, 2))
    totals.add_column()
    totals.add_column(justify="right")
    for label, value in _totals(summary):
        totals.add_row(label + ":", value)
    return Group(table, totals)


def markdown(summary: Summary) -> str:
    """A GitHub-flavoured markdown table with the totals below it."""
    show_inputs = any(r.show_inputs for r in summary.rows)
    headers = [h for h in HEADERS if show_inputs or h != "Inputs"]
    lines = [f"### {summary.name}", "", f"_{_caption(summary)}_", ""]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join("---:" if h == "Params" else "---" for h in headers) + "|")
    for row in summary.rows:
        cells = list(_cells(row))
        if not show_inputs:
            del cells[2]
        cells = [c.replace("|", "\\|") for c in cells]
        cells[0], cells[1] = f"`{cells[0]}`", f"`{cells[1]}`"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- **{label}:** {value}" for label, value in _totals(summary)]
    return "\n".join(lines) + "\n"
