"""Human renderings of the shape report: a rich table for the terminal, and markdown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from specc.dims import format_count
from specc.report.plain import column_widths, table, wrap_text
from specc.report.summary import (
    DEFAULT_COLUMNS,
    Row,
    Summary,
    fmt_field,
    fmt_max,
    fmt_shape,
    fmt_si,
    fmt_trainable,
)
from specc.units import format_bytes

if TYPE_CHECKING:
    from specc.diff import Diff, LayerDiff, Total

Cell = Callable[[Row], str]

# column -> (header, cell, right-aligned)
COLUMN_SPECS: dict[str, tuple[str, Cell, bool]] = {
    "name": ("Layer", lambda r: r.name, False),
    "type": ("Type", lambda r: r.type, False),
    "inputs": ("Inputs", lambda r: ", ".join(r.inputs), False),
    "output": ("Output shape", lambda r: fmt_shape(r.output_shape), False),
    "kernel": ("Kernel shape", lambda r: fmt_shape(r.kernel_shape), False),
    "params": ("Params", lambda r: format_count(r.params), True),
    "trainable": ("Trainable", lambda r: fmt_trainable(r.trainable), False),
    "macs": ("MACs", lambda r: format_count(r.macs), True),
    "flops": ("FLOPs", lambda r: format_count(r.flops), True),
    "memory": ("Memory", lambda r: format_bytes(r.memory), True),
    "rf": ("Receptive field", lambda r: fmt_field(r.field), False),
}


def _shown(summary: Summary, columns: Sequence[str] | None) -> tuple[tuple[str, ...], bool]:
    """The columns to draw, and whether every row lists its inputs.

    By default the inputs column appears only when some layer names its inputs or merges
    several, and then only on those rows; asked for by name, it is filled on every row.
    """
    if columns is not None:
        return tuple(columns), True
    show = any(r.show_inputs for r in summary.rows)
    return tuple(c for c in DEFAULT_COLUMNS if c != "inputs" or show), False


def _cells(row: Row, columns: tuple[str, ...], all_inputs: bool) -> list[str]:
    out = []
    for c in columns:
        hidden = c == "inputs" and not (all_inputs or row.show_inputs)
        out.append("" if hidden else COLUMN_SPECS[c][1](row))
    return out


def _totals(summary: Summary) -> list[tuple[str, str]]:
    per = "per sample" if summary.batch == 1 else f"batch of {summary.batch}"
    rows = [
        ("Total params", format_count(summary.params)),
        ("Trainable params", format_count(summary.trainable_params)),
        ("Non-trainable params", format_count(summary.non_trainable_params)),
    ]
    if summary.buffers != 0:
        rows.append(("Buffers (batch-norm running mean and var)", format_count(summary.buffers)))
    rows += [
        ("Weight memory (float32)", format_bytes(summary.weight_bytes)),
        (f"Total MACs ({per})", _with_si(summary.macs)),
        ("Total FLOPs (2 x MACs)", _with_si(summary.flops)),
    ]
    if summary.peak:
        peak = (
            format_bytes(summary.peak[0])
            if len(summary.peak) == 1
            else fmt_max(summary.peak) + " B"
        )
        rows.append((f"Peak activation memory ({per})", peak))
        if len(summary.peak_at) == 1:
            layer, live = summary.peak_at[0]
            rows.append(("Peak while running", f"{layer} (live: {', '.join(live)})"))
    if summary.assumed:
        rows.append(("Assumed (assume:)", ", ".join(str(a) for a in summary.assumed)))
    rows += [(f"Constraint on {b.symbol}", _bound(b)) for b in summary.bounds]
    rows += [
        (f"Constraint on {c.symbol}", f"{c} (where {c.where} merges)") for c in summary.congruences
    ]
    if summary.dims:
        rows.append(("Evaluated at", ", ".join(f"{n}={v}" for n, v in summary.dims)))
    return rows


def _with_si(d: Any) -> str:
    text, short = format_count(d), fmt_si(d)
    return text if text == short else f"{text} ({short})"


def _bound(b: Any) -> str:
    return f"{b.symbol} >= {b.value} ({b.where} axis {b.axis} is {format_count(b.dim)})"


def _caption(summary: Summary) -> str:
    layout = (
        "(k..., C_in/groups, C_out)" if summary.layout == "keras" else "(C_out, C_in/groups, k...)"
    )
    dtypes = dict(summary.input_dtypes)
    ins = ", ".join(
        f"{n} {fmt_shape(s)}" + (f" {dtypes[n]}" if n in dtypes else "") for n, s in summary.inputs
    )
    return f"inputs: {ins}; kernel layout {summary.layout} {layout}; shapes exclude the batch axis"


def conventions_note() -> str:
    return (
        "1 MAC = 1 multiply + 1 add, FLOPs = 2 x MACs, convolution, dense, recurrent and "
        "attention layers only; memory: float32 outputs, peak over live tensors in spec order."
    )


NUMBERS = ("params", "macs", "flops", "memory")  # never wrapped: a number stays whole


def _grid(
    summary: Summary, columns: Sequence[str] | None
) -> tuple[list[str], list[list[str]], set[int], set[int]]:
    """Headers, cells, the right-aligned columns and the columns that never wrap."""
    shown, all_inputs = _shown(summary, columns)
    headers = [COLUMN_SPECS[c][0] for c in shown]
    rows = [_cells(row, shown, all_inputs) for row in summary.rows]
    right = {i for i, c in enumerate(shown) if COLUMN_SPECS[c][2]}
    nowrap = {i for i, c in enumerate(shown) if c in NUMBERS or c in ("name", "type")}
    return headers, rows, right, nowrap


def boxed(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: set[int],
    nowrap: set[int],
    width: int | None,
    **options: Any,
) -> tuple[Any, int]:
    """A rich table whose column widths are chosen here, so that cells wrap at spaces only,
    and the console width it needs (more than `width` when it cannot fit without splitting)."""
    from rich.table import Table

    # Each column has a border and a space of padding either side: 3 characters, and 1 more.
    inner = None if width is None else width - 4
    widths = column_widths(headers, rows, inner, nowrap, gap=3)
    table = Table(**options)
    for i, (header, w) in enumerate(zip(headers, widths, strict=True)):
        table.add_column(header, justify="right" if i in right else "left", width=w)
    for cells in rows:
        table.add_row(*cells)
    return table, sum(widths) + 3 * len(widths) + 1


def plain(summary: Summary, columns: Sequence[str] | None = None, width: int | None = None) -> str:
    """The report as plain fixed-width text (for pipes, files and CI logs), every column kept;
    with `width`, cells wrap at spaces to fit, but no number or word is ever split."""
    headers, rows, right, nowrap = _grid(summary, columns)
    body = table(headers, rows, right, width, nowrap, rule=True)
    rule_width = max(len(line) for line in body.split("\n"))
    totals = _totals(summary)
    label_width = max(len(label) for label, _ in totals) + 1
    after = [f"{label + ':':<{label_width}}  {value}" for label, value in totals]
    after += ["", _caption(summary), conventions_note()]
    lines = [summary.name, "=" * rule_width, body, "=" * rule_width, *after]
    return "\n".join([*lines[:4], wrap_text("\n".join(after), width)]) + "\n"


def rich_table(
    summary: Summary, columns: Sequence[str] | None = None, width: int | None = None
) -> tuple[Any, int]:
    """A rich renderable: the layer table with a totals block beneath, and the console width
    it needs to keep every word whole (at least `width` when it fits in that)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    headers, rows, right, nowrap = _grid(summary, columns)
    table, needed = boxed(
        headers,
        rows,
        right,
        nowrap,
        width,
        title=summary.name,
        caption=_caption(summary),
        title_style="bold",
        caption_justify="left",
    )
    totals = Table.grid(padding=(0, 2))
    totals.add_column()
    totals.add_column(justify="right")
    for label, value in _totals(summary):
        totals.add_row(label + ":", value)
    return Group(table, totals, Text(conventions_note(), style="dim")), needed


def markdown(summary: Summary, columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured markdown table with the totals below it."""
    shown, all_inputs = _shown(summary, columns)
    headers = [COLUMN_SPECS[c][0] for c in shown]
    lines = [f"### {summary.name}", "", f"_{_caption(summary)}_", ""]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join("---:" if COLUMN_SPECS[c][2] else "---" for c in shown) + "|")
    for row in summary.rows:
        cells = [cell.replace("|", "\\|") for cell in _cells(row, shown, all_inputs)]
        for i, c in enumerate(shown):
            if c in ("name", "type"):
                cells[i] = f"`{cells[i]}`"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- **{label}:** {value}" for label, value in _totals(summary)]
    lines += ["", f"_{conventions_note()}_"]
    return "\n".join(lines) + "\n"


# -- diff -------------------------------------------------------------------------------------

DIFF_HEADERS = ("Layer", "Change", "Type", "Output shape", "Kernel shape", "Params", "MACs")
ARROW = " -> "


def _delta(total: Total) -> str:
    """`7,264 -> 1,520 (-5,744, -79.1%)`; the bare value when nothing changed."""
    if total.old == total.new:
        return format_count(total.new)
    delta = total.delta
    sign = "+" if not isinstance(delta, int) or delta >= 0 else ""
    pct = "" if total.percent is None else f", {total.percent:+.1f}%"
    old, new = format_count(total.old), format_count(total.new)
    return f"{old}{ARROW}{new} ({sign}{format_count(delta)}{pct})"


def _diff_cells(d: LayerDiff) -> list[str]:
    from specc.diff import Total

    def show(side: Any, field: str) -> str:
        value = side.get(field)
        if field in ("output", "kernel"):
            return fmt_shape(value)
        return format_count(value) if field in ("params", "macs") else str(value)

    cells = [d.name, d.status]
    for field in ("type", "output", "kernel", "params", "macs"):
        if d.old is None or d.new is None:
            cells.append(show(d.old or d.new, field))
        elif field in ("params", "macs"):
            cells.append(_delta(Total(d.old.get(field), d.new.get(field))))  # type: ignore[arg-type]
        elif field in d.changed:
            cells.append(show(d.old, field) + ARROW + show(d.new, field))
        else:
            cells.append(show(d.new, field))
    return cells


def _diff_totals(diff: Diff) -> list[tuple[str, str]]:
    rows = [("Total params", _delta(diff.params)), ("Total MACs", _delta(diff.macs))]
    if diff.peak is not None:
        rows.append(("Peak activation memory (bytes)", _delta(diff.peak)))
    counts = {
        s: sum(d.status == s for d in diff.layers) for s in ("added", "removed", "changed", "same")
    }
    rows.append(("Layers", ", ".join(f"{n} {s}" for s, n in counts.items())))
    return rows


def _diff_rows(diff: Diff, everything: bool) -> tuple[LayerDiff, ...]:
    return diff.layers if everything else diff.changes


def _diff_title(diff: Diff) -> str:
    if diff.old_name == diff.new_name:
        return diff.new_name
    return f"{diff.old_name}{ARROW}{diff.new_name}"


def _nothing(diff: Diff) -> str:
    return "no differences" if diff.identical else "no layer changed"


DIFF_RIGHT = {i for i, h in enumerate(DIFF_HEADERS) if h in ("Params", "MACs")}
DIFF_NOWRAP = {0, 1}  # the layer's name and its change


def diff_plain(diff: Diff, everything: bool = False, width: int | None = None) -> str:
    """The diff as plain fixed-width text: every column kept, no number ever split."""
    rows = [_diff_cells(d) for d in _diff_rows(diff, everything)]
    lines = [_diff_title(diff)]
    if rows:
        body = table(DIFF_HEADERS, rows, DIFF_RIGHT, width, DIFF_NOWRAP, rule=True)
        rule_width = max(len(line) for line in body.split("\n"))
        lines += ["=" * rule_width, body, "=" * rule_width]
    else:
        lines.append(_nothing(diff))
    totals = _diff_totals(diff)
    label_width = max(len(label) for label, _ in totals) + 1
    after = [f"{label + ':':<{label_width}}  {value}" for label, value in totals]
    return "\n".join([*lines, wrap_text("\n".join(after), width)]) + "\n"


def diff_table(diff: Diff, everything: bool = False, width: int | None = None) -> tuple[Any, int]:
    """A rich renderable: changed layers (all with `everything`), then the totals; and the
    console width it needs."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    rows = [_diff_cells(d) for d in _diff_rows(diff, everything)]
    title = _diff_title(diff)
    totals = Table.grid(padding=(0, 2))
    totals.add_column()
    totals.add_column()
    for label, value in _diff_totals(diff):
        totals.add_row(label + ":", value)
    if not rows:
        return Group(Text(title, style="bold"), Text(_nothing(diff)), totals), width or 80
    table, needed = boxed(
        DIFF_HEADERS, rows, DIFF_RIGHT, DIFF_NOWRAP, width, title=title, title_style="bold"
    )
    return Group(table, totals), needed


def diff_markdown(diff: Diff, everything: bool = False) -> str:
    """A markdown table for a pull-request comment."""
    lines = [f"### specc diff: {_diff_title(diff)}", ""]
    rows = _diff_rows(diff, everything)
    if rows:
        lines.append("| " + " | ".join(DIFF_HEADERS) + " |")
        lines.append(
            "|" + "|".join("---:" if h in ("Params", "MACs") else "---" for h in DIFF_HEADERS) + "|"
        )
        for d in rows:
            cells = [c.replace("|", "\\|") for c in _diff_cells(d)]
            cells[0] = f"`{cells[0]}`"
            if d.status == "removed":
                cells[0] = f"~~{cells[0]}~~"
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("No differences." if diff.identical else "No layer changed.")
    lines.append("")
    lines += [f"- **{label}:** {value}" for label, value in _diff_totals(diff)]
    return "\n".join(lines) + "\n"
