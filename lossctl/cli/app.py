"""The Typer app and the one place where exceptions become exit codes.

``LossctlGroup.main`` runs every command in Click's non-standalone mode and
maps what comes out: a command's return value is its exit code; a usage or
input error is one line on stderr and exit 2; Ctrl-C is exit 130 and SIGTERM
exit 143; anything else is a bug: exit 3 and a line asking for a rerun with
``--debug``, which prints the traceback. The files a command writes appear only if it completes
(exit 0 or 1): see ``lossctl.io.atomic``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.core import Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from lossctl._version import __version__
from lossctl.cli._coerce import install as plain_values
from lossctl.cli._start import handled
from lossctl.cli.examples import ROOT, ExamplesHelp
from lossctl.errors import ExitCode, LossctlError, redacted
from lossctl.io.atomic import Renames, deferred_renames

if TYPE_CHECKING:
    from rich.console import Console


def error_line(message: str) -> None:
    """One line on stderr, prefixed with the program name.

    A message that spans lines (a reader's own words, a file name with a
    newline) is joined into one, so that scripts can rely on one line.
    """
    sys.stderr.write(f"lossctl: {' '.join(message.splitlines())}\n")
    sys.stderr.flush()


def internal_error_line(error: BaseException) -> None:
    """The one line for a bug: what happened, and to rerun with --debug and report it."""
    error_line(
        f"internal error: {type(error).__name__}: {error}. This is a bug in lossctl "
        f"{__version__}: please rerun with --debug and report the traceback"
    )


class PipeClosed(Exception):
    """stdout's reader went away during a command (Typer would make that exit 1)."""


class Terminated(BaseException):
    """SIGTERM arrived (a job's timeout, ``kill``): unwind as Ctrl-C does, so that the
    files being written are removed rather than left behind half-written."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


class LossctlGroup(ExamplesHelp, TyperGroup):
    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        plain_values(self, ctx)  # before any option is read: Typer >= 0.29 would load pydantic
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as error:
            raise PipeClosed from error

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> int:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or bool(os.environ.get("LOSSCTL_DEBUG"))
        # The files a command writes are renamed into place once it has completed:
        # after an error or Ctrl-C, no new file is left and an existing one is untouched.
        # SIGTERM unwinds as Ctrl-C does (see Terminated); Python's own default ends the
        # process at once, leaving the temporary files behind.
        with handled(signal.SIGTERM, _terminate), deferred_renames() as renames:
            code, failure = self._run(
                renames, argv, prog_name or "lossctl", complete_var, debug, extra
            )
        if failure is not None:  # exit 2; outside deferred_renames, this file is kept at once
            write_error_junit(self, argv, *failure)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        renames: Renames,
        argv: list[str],
        prog_name: str,
        complete_var: str | None,
        debug: bool,
        extra: dict[str, Any],
    ) -> tuple[int, tuple[str, str, str | None] | None]:
        """Run the command; every exception becomes its exit code and at most one line.

        The second value is, for a usage or input error (exit 2), its message, its kind
        and the file it names, if any.
        """
        code: int
        failure: tuple[str, str, str | None] | None = None
        try:
            result = super().main(
                args=argv,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            code = result if isinstance(result, int) else ExitCode.OK
            if code == ExitCode.INTERRUPTED:  # Typer's own answer to Ctrl-C: Exit(130), silent
                error_line("interrupted")
            if code in (ExitCode.OK, ExitCode.GATE_FAILED):
                renames.commit()
        except NoArgsIsHelpError:
            code = ExitCode.INPUT_ERROR  # the help has been printed: no more to say
        except ClickException as error:
            message = f"{error.format_message()} (see 'lossctl --help')"
            failure = (message, type(error).__name__, None)
            error_line(f"error: {failure[0]}")
            code = ExitCode.INPUT_ERROR
        except LossctlError as error:
            if debug:
                print_traceback()
            if error.exit_code == ExitCode.INTERNAL_ERROR:
                internal_error_line(error)
            else:
                error_line(f"error: {error}")
                failure = (str(error), type(error).__name__, error.file)
            code = error.exit_code
        except KeyboardInterrupt:
            error_line("interrupted")
            code = ExitCode.INTERRUPTED
        except Terminated:
            error_line("terminated")
            code = ExitCode.TERMINATED
        except (BrokenPipeError, PipeClosed):
            silence_stdout()
            code = ExitCode.OK
        except SystemExit as stop:
            # Rich (the help) and Click answer a closed stdout with exit 1, the exit code
            # of a failed gate; the reader went away, nothing failed.
            if not isinstance(stop.__context__, BrokenPipeError):
                raise
            silence_stdout()
            code = ExitCode.OK
        except Exception as error:
            if debug:
                print_traceback()
            internal_error_line(error)
            code = ExitCode.INTERNAL_ERROR
        return int(code), failure if code == ExitCode.INPUT_ERROR else None


def print_traceback() -> None:
    """``--debug``'s traceback, with the secrets of signed URLs in it redacted."""
    sys.stderr.write(redacted(traceback.format_exc()))


def write_error_junit(
    command: TyperGroup, argv: list[str], message: str, kind: str, culprit: str | None
) -> None:
    """A run that ended in exit 2 with ``--junit``: that file still says why, in one
    ``<error>`` test case, so that a CI report step shows it. The arguments are read again
    leniently (as shell completion does) to find the file; none is written where the
    arguments cannot be followed, or where the file is what the error is about (the
    ``culprit``: an input, another output's file)."""
    from typer._click.shell_completion import _resolve_context

    try:
        params = _resolve_context(command, {}, "lossctl", argv).params
    except Exception:
        return
    path = params.get("junit")
    if not isinstance(path, str):
        return
    if culprit is not None and os.path.realpath(culprit) == os.path.realpath(path):
        return
    from lossctl.io.writers import check_output, write_text
    from lossctl.report.ci import render_junit_error

    inputs = [params.get(name) for name in ("predictions", "targets", "baseline")]
    with contextlib.suppress(LossctlError, OSError):
        check_output(path, [name for name in inputs if isinstance(name, str)], "--junit")
        write_text(path, render_junit_error(message, kind))


def stdout_console() -> Console:
    """A Rich console for stdout that, when the reader of a pipe goes away, goes quiet.

    Rich's own reaction is ``SystemExit(1)``, the exit code of a failed gate.
    """
    from rich.console import Console

    class QuietOnBrokenPipe(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            silence_stdout()

    return QuietOnBrokenPipe(highlight=False)


def silence_stdout() -> None:
    """After the reader of a pipe went away, send the rest of stdout nowhere, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())


app = typer.Typer(
    cls=LossctlGroup,
    name="lossctl",
    help="Evaluate predictions against targets: the right loss for the task, explained.",
    epilog=ROOT,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"lossctl {__version__}\n")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Evaluate predictions against targets: the right loss for the task, explained."""


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: ``lossctl ...``; returns the exit code."""
    command = typer.main.get_command(app)
    return command.main(args=argv, standalone_mode=False)  # type: ignore[no-any-return]
