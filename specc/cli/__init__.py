"""The command line: parses arguments, calls the pipeline, renders, picks the exit code.

One module per group of commands; importing them registers the commands on `app`, in the
order `specc --help` lists them.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
from typing import Annotated

import typer

from specc import __version__, exits
from specc.cli.common import app

# Importing a command module registers its commands; `specc --help` lists them in this order.
# isort: off
from specc.cli import reports  # noqa: F401
from specc.cli import check  # noqa: F401
from specc.cli import reference  # noqa: F401
from specc.cli import run  # noqa: F401
from specc.cli import interop  # noqa: F401
# isort: on

__all__ = ["app", "main", "only_invoked"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Compile, check and explain declarative YAML neural-network specs."""


def only_invoked(argv: list[str]) -> typer.Typer:
    """`app` with only the command named in `argv` registered (all of them for anything else).

    Typer builds every registered command's options on each start (it inspects each signature
    and evaluates its annotations), about a third of a one-file `specc check`. The group, its
    callback and the command are the same objects either way, so usage, help and errors read
    the same; `specc --help` and a mistyped command still see every command.
    """
    wanted = argv[0] if argv else None
    chosen = [
        info
        for info in app.registered_commands
        if wanted == (info.name or getattr(info.callback, "__name__", "").replace("_", "-"))
    ]
    if not chosen:
        return app
    lean = copy.copy(app)
    lean.registered_commands = chosen
    return lean


def main() -> None:
    """Entry point: a bug in specc is one clear line unless SPECC_DEBUG is set."""
    exits.terminate_on_sigterm()
    try:
        try:
            # One name for help and shell completion, however specc was started; click's own
            # errors come back here (standalone_mode=False) to be worded as specc's are.
            code = only_invoked(sys.argv[1:])(
                prog_name="specc", complete_var="_SPECC_COMPLETE", standalone_mode=False
            )
        finally:
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        sys.exit(code if isinstance(code, int) else 0)
    except typer.TyperException as exc:  # click's usage errors (typer vendors click)
        _show_usage_error(exc)
        sys.exit(getattr(exc, "exit_code", exits.USAGE))
    except typer.Abort:  # end of input at a prompt
        sys.stderr.write("specc: error: aborted\n")
        sys.exit(exits.FINDINGS)
    except BrokenPipeError:
        _silence_stdout()  # `specc check | head`: the reader has all it wanted
        sys.exit(exits.FINDINGS)
    except OSError as exc:
        if os.environ.get("SPECC_DEBUG"):
            raise
        _silence_stdout()
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"specc: error: I/O error: {exc.strerror or exc}{where}\n")
        sys.exit(exits.IO_ERROR)
    except exits.Terminated:
        sys.stderr.write("specc: terminated\n")
        sys.exit(exits.TERMINATED)
    except KeyboardInterrupt:
        sys.stderr.write("specc: interrupted\n")
        sys.exit(exits.INTERRUPTED)
    except MemoryError:
        hint = (
            "; try a smaller --batch, or a --max-memory below this machine's RAM"
            if sys.argv[1:2] in (["run"], ["plan"])
            else ""
        )
        sys.stderr.write(f"specc: error: out of memory{hint}\n")
        sys.exit(exits.FINDINGS)
    except Exception as exc:
        if os.environ.get("SPECC_DEBUG"):
            raise
        sys.stderr.write(
            f"specc: error: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in specc; run again with SPECC_DEBUG=1 for the traceback.\n"
        )
        sys.exit(exits.BUG)


def _show_usage_error(exc: typer.TyperException) -> None:
    """A usage error as click shows it (the usage line, where to find help), but with the
    error line starting `specc: error:` as all of specc's do."""
    show = getattr(exc, "show", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and callable(show):
        show()  # `specc` alone: the help, which is no error
        return
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.\n"
        typer.echo(f"{ctx.get_usage()}\n{hint}", err=True)
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    typer.echo(f"specc: error: {message}", err=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
