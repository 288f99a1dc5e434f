"""``python -m scopax.port`` and ``scopax-port``: files and folders in, a report out.

Exit status: 0 when all went well (with ``--check``: nothing needs porting), 1 with
``--check`` when a file would be rewritten or has places that need a person, 2 on an
error (a syntax error, a file that cannot be read, a missing path, no libcst).
"""

from __future__ import annotations

import argparse
import io
import sys
import tokenize
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

LIBCST_MISSING = "scopax.port needs libcst, which is not installed: pip install 'scopax[port]'"

_DESCRIPTION = """\
Port TF1 model files to scopax: rewrite the TensorFlow imports to
scopax.compat.v1 and friends, tf.compat.v1.X to tf.X, and TF's static-shape
idioms to JAX's; report the graph code (placeholders, sessions, feeds,
initializer ops, queues, savers, summaries) that a person must rewrite.
Without --write, no file is changed."""

_EPILOG = """\
exit status: 0 done (with --check: nothing to port); 1 with --check: something
needs porting; 2 an error (syntax error, unreadable or missing path, no libcst)."""


# Not code of one's own to port: caches, and installed packages (a venv's TensorFlow).
_SKIPPED_FOLDERS = ("__pycache__", "site-packages")


def _parser() -> argparse.ArgumentParser:
    console_script = Path(sys.argv[0]).name == "scopax-port"
    parser = argparse.ArgumentParser(
        prog="scopax-port" if console_script else "python -m scopax.port",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="Python files, or folders: every *.py under them but in hidden folders, "
        "__pycache__ and site-packages",
    )
    parser.add_argument(
        "--diff", action="store_true", help="print a unified diff (the report goes to stderr)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the files in place")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 when something needs porting; write nothing"
    )
    return parser


def _files(arg: str, out: TextIO) -> Iterator[Path]:
    """The Python files under ``arg``; a message for what is not one. OSError: missing."""
    path = Path(arg)
    if path.is_dir():
        for file in sorted(path.rglob("*.py")):
            parts = file.relative_to(path).parts
            if not any(p.startswith(".") or p in _SKIPPED_FOLDERS for p in parts):
                yield file
    elif path.is_file():
        if path.suffix == ".py":
            yield path
        else:
            print(f"{path}: skipped: not a Python file", file=out)
    else:
        raise FileNotFoundError(arg)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(files: int, lines: int, places: int, errors: int, *, written: bool) -> str:
    """The run's last line.

    >>> print(summary(1, 9, 1, 0, written=True))
    scopax.port: 1 file changed, 9 lines rewritten, 1 place needs a person
    """
    if written:
        text = f"{_plural(files, 'file')} changed, {_plural(lines, 'line')} rewritten"
    else:
        text = f"{_plural(files, 'file')} would change, {_plural(lines, 'line')} would be rewritten"
    text += f", {_plural(places, 'place')} need{'s' if places == 1 else ''} a person"
    if errors:
        text += f", {_plural(errors, 'error')}"
    if not written and files:
        text += " (nothing written; --diff shows the changes, --write makes them)"
    return "scopax.port: " + text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the porter on ``argv`` (default: the command line); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        import libcst  # noqa: F401  (only to say what is missing before anything runs)
    except ImportError:
        print(LIBCST_MISSING, file=sys.stderr)
        return 2
    from scopax.port._port import port_source

    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):  # A console that cannot show "→" gets \u2192.
            stream.reconfigure(errors="backslashreplace")
    out = sys.stderr if args.diff else sys.stdout
    files = lines = places = errors = 0
    for arg in args.paths:
        try:
            paths = list(_files(arg, out))
        except FileNotFoundError:
            print(f"{arg}: error: no such file or folder", file=out)
            errors += 1
            continue
        for path in paths:
            name = str(path)
            try:
                raw = path.read_bytes()
                encoding = tokenize.detect_encoding(iter(raw.splitlines(keepends=True)).__next__)[0]
                source = raw.decode(encoding)
                result = port_source(source, name)
            except SyntaxError as error:
                where = f"{error.lineno}:{error.offset or 1}" if error.lineno else "1:1"
                print(f"{name}:{where}: syntax error: {error.msg}; left unchanged", file=out)
                errors += 1
                continue
            except (OSError, UnicodeDecodeError) as error:
                print(f"{name}: error: cannot read it ({error}); left unchanged", file=out)
                errors += 1
                continue
            if not result.tf1:
                print(f"{name}: not TF1 code: no tensorflow import; left unchanged", file=out)
                continue
            written = False
            if result.changed:
                if args.diff:
                    sys.stdout.write(result.diff(name))
                if args.write:
                    try:
                        path.write_bytes(result.ported.encode(encoding))
                        written = True
                    except OSError as error:
                        print(f"{name}: error: cannot write it ({error}); left unchanged", file=out)
                        errors += 1
                if written or not args.write:
                    files += 1
                    lines += result.lines_rewritten
                    verb = "rewrote" if written else "would rewrite"
                    print(f"{name}: {verb} {_plural(result.lines_rewritten, 'line')}", file=out)
            findings = result.findings_after if written else result.findings
            places += len(findings)
            for finding in findings:
                print(finding.format(name), file=out)
    print(summary(files, lines, places, errors, written=args.write), file=out)
    if errors:
        return 2
    return 1 if args.check and (files or places) else 0
