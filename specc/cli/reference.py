"""The reference commands: `rules`, `schema` and `layers`."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from specc import exits
from specc.cli.common import app, fail


class RulesFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


@app.command()
def rules(
    code: Annotated[
        str | None,
        typer.Argument(
            help="A code to explain (W101), or a prefix to list (W, S1).", show_default=False
        ),
    ] = None,
    format: Annotated[
        RulesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = RulesFormat.text,
) -> None:
    """List every diagnostic code with its severity and summary, or explain one with examples."""
    import specc.codes
    import specc.lint  # noqa: F401 - both register their codes
    from specc.diagnostics import CATALOGUE
    from specc.report import rules as render

    wanted = (code or "").strip().upper()
    wanted = "" if wanted == "ALL" else wanted  # the selector that --select takes for everything
    chosen = [CATALOGUE[wanted]] if wanted in CATALOGUE else render.catalogue(wanted)
    if not chosen:
        from specc.suggest import did_you_mean

        hint = did_you_mean(wanted, CATALOGUE)
        fail(f"unknown code '{code}'{hint} (`specc rules` lists them all)", exits.USAGE)
    if format is RulesFormat.json:
        typer.echo(json.dumps(render.to_json(chosen), indent=2))
    elif format is RulesFormat.markdown:
        typer.echo(render.markdown(chosen), nl=False)
    elif wanted in CATALOGUE:
        typer.echo(render.help_text(chosen[0]))
    else:
        typer.echo(render.table(chosen))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (for editors: yaml-language-server)."""
    from specc.schema import build_schema

    typer.echo(json.dumps(build_schema(), indent=2))


@app.command()
def layers(
    layer_type: Annotated[
        str | None, typer.Argument(help="One layer type to describe.", show_default=False)
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The whole catalogue as markdown.")
    ] = False,
) -> None:
    """List the layer types, or describe one with its attributes and defaults."""
    from specc.ops import REGISTRY
    from specc.report import layers as catalogue

    if markdown:
        typer.echo(catalogue.markdown(), nl=False)
    elif layer_type is None:
        for name in sorted(REGISTRY):
            typer.echo(f"{name:<18} {REGISTRY[name].summary}")
    elif layer_type in REGISTRY:
        typer.echo(catalogue.describe(REGISTRY[layer_type]))
    else:
        from specc.suggest import did_you_mean

        hint = did_you_mean(layer_type, REGISTRY)
        fail(f"unknown layer type '{layer_type}'{hint}", exits.USAGE)
