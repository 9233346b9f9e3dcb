"""Solution regions: the parts of a module's reference code that a student writes.

A region is a run of lines between a ``# BEGIN SOLUTION`` comment line and an
``# END SOLUTION`` comment line at the same indentation (the nbgrader convention),
inside a function body, preceded by one or more ``# HINT: ...`` comment lines that say
what to write. Releasing replaces each region by ``raise NotImplementedError(...)`` at
that indentation, with the function's name and the hint as its message, so the module
still imports and each unwritten part fails loudly, naming what is missing.

Markers are real comments (found with ``tokenize``, so text inside strings never counts),
each alone on its line. Anything that looks like a marker but is not exactly one (a
typo, a marker after code) is an error, as are nesting, a missing or stray END, a
region outside a function, and a HINT that does not lead into a region: a marker that
is silently ignored would leave a solution in the student's copy.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
HINT = re.compile(r"# HINT: (?P<text>\S.*)")
# Comments that mean to be markers; each must then match one of the exact forms above.
_LOOKS_LIKE_MARKER = re.compile(r"#\s*((BEGIN|END)\s*SOLUTION|HINT\b)", re.IGNORECASE)
# Released code stays within the project's line length.
LINE_LENGTH = 100


class MarkerError(ValueError):
    """Misplaced or malformed markers; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Region:
    """One solution region: its lines (1-based, markers included), place and hint."""

    path: Path
    begin: int  # line of "# BEGIN SOLUTION"
    end: int  # line of "# END SOLUTION"
    indent: str
    hint: str
    function: str  # qualified name of the enclosing function, e.g. "Tensor.sum"

    @property
    def message(self) -> str:
        """The text of the NotImplementedError that replaces the region."""
        return f"{self.function}: {self.hint}" if self.hint else f"{self.function}: not written yet"


@dataclass(frozen=True)
class Stub:
    """Where a released file raises NotImplementedError, and why."""

    line: int  # 1-based line of the ``raise`` in the released file
    function: str
    hint: str


@dataclass(frozen=True)
class _Marker:
    line: int
    kind: str  # "begin", "end" or "hint"
    indent: str
    text: str = ""


def _fail(path: Path, line: int, message: str) -> MarkerError:
    """A MarkerError whose message starts with ``path:line:``."""
    return MarkerError(f"{path}:{line}: {message}")


def _comments(path: Path, text: str) -> list[tuple[int, int, str]]:
    """``(line, column, comment)`` of every comment in ``text``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except SyntaxError as error:  # IndentationError, among others
        raise _fail(path, error.lineno or 1, f"cannot read the file: {error.msg}") from None
    except tokenize.TokenError as error:  # args: (message, (line, column))
        raise _fail(path, error.args[1][0], f"cannot read the file: {error.args[0]}") from None
    return [(t.start[0], t.start[1], t.string) for t in tokens if t.type == tokenize.COMMENT]


def _markers(path: Path, text: str, lines: list[str]) -> list[_Marker]:
    """The marker comments of a file, each checked to be exactly one of the three forms."""
    markers = []
    for line, column, comment in _comments(path, text):
        if not _LOOKS_LIKE_MARKER.match(comment):
            continue
        before = lines[line - 1][:column]
        comment = comment.rstrip()
        hint = HINT.fullmatch(comment)
        if before.strip() or not (comment in (BEGIN, END) or hint):
            raise _fail(
                path,
                line,
                f"malformed marker {comment!r}: write {BEGIN!r}, {END!r} or '# HINT: <text>' "
                "alone on its line",
            )
        if hint:
            markers.append(_Marker(line, "hint", before, hint.group("text").strip()))
        else:
            markers.append(_Marker(line, "begin" if comment == BEGIN else "end", before))
    return markers


def _pair(path: Path, markers: list[_Marker]) -> list[tuple[_Marker, _Marker, str]]:
    """Match BEGIN with END and gather the HINT lines right above each BEGIN."""
    pairs = []
    opened: _Marker | None = None
    hints: list[_Marker] = []
    for marker in markers:
        if hints and marker.line != hints[-1].line + 1:
            raise _fail(path, hints[0].line, "a HINT must sit directly above # BEGIN SOLUTION")
        if marker.kind == "hint":
            if opened is not None:
                raise _fail(path, marker.line, "a HINT inside a solution region")
            hints.append(marker)
        elif marker.kind == "begin":
            if opened is not None:
                raise _fail(
                    path,
                    marker.line,
                    f"# BEGIN SOLUTION inside the region opened at line {opened.line}",
                )
            opened, hint = marker, " ".join(h.text for h in hints)
            hints = []
        else:
            if opened is None:
                raise _fail(path, marker.line, "# END SOLUTION without a # BEGIN SOLUTION")
            if marker.indent != opened.indent:
                raise _fail(
                    path,
                    marker.line,
                    f"# END SOLUTION is not indented like the # BEGIN SOLUTION of line "
                    f"{opened.line}",
                )
            if marker.line == opened.line + 1:
                raise _fail(path, opened.line, "empty solution region")
            pairs.append((opened, marker, hint))
            opened = None
    if hints:
        raise _fail(path, hints[0].line, "a HINT must sit directly above # BEGIN SOLUTION")
    if opened is not None:
        raise _fail(path, opened.line, "# BEGIN SOLUTION is never closed by # END SOLUTION")
    return pairs


@dataclass(frozen=True)
class _Function:
    name: str
    indent: int
    body_from: int  # first line after the signature
    last: int  # last line of the body


def _functions(tree: ast.AST) -> list[_Function]:
    """Every function of a module with its qualified name and line span."""
    found: list[_Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                parts = [*ast.walk(child.args), *([child.returns] if child.returns else [])]
                signature_end = max(
                    [child.lineno] + [getattr(n, "end_lineno", None) or 0 for n in parts]
                )
                found.append(_Function(name, child.col_offset, signature_end + 1, child.end_lineno))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _enclosing(
    path: Path, functions: list[_Function], lines: list[str], begin: _Marker, end: _Marker
) -> str:
    """Name of the innermost function whose body holds the region; else MarkerError."""
    best: _Function | None = None
    for function in functions:
        inside = function.body_from <= begin.line and len(begin.indent) > function.indent
        trailing = lines[function.last : end.line - 1]  # lines between the body's end and END
        closes_inside = end.line <= function.last or all(
            not line.strip() or line.strip().startswith("#") for line in trailing
        )
        if inside and closes_inside and (best is None or function.body_from > best.body_from):
            best = function
    if best is None:
        raise _fail(
            path,
            begin.line,
            "a solution region must sit inside a function body, so the released module imports",
        )
    return best.name


def find_regions(path: Path, text: str | None = None) -> list[Region]:
    """All regions of one Python file, in order; MarkerError naming file:line if misplaced."""
    text = path.read_text(encoding="utf-8") if text is None else text
    if not _LOOKS_LIKE_MARKER.search(text):
        return []
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise _fail(path, error.lineno or 1, f"cannot parse the file: {error.msg}") from None
    lines = text.splitlines()
    markers = _markers(path, text, lines)
    if not markers:
        return []
    functions = _functions(tree)
    return [
        Region(
            path,
            begin.line,
            end.line,
            begin.indent,
            hint,
            _enclosing(path, functions, lines, begin, end),
        )
        for begin, end, hint in _pair(path, markers)
    ]


def _string_literal(text: str) -> str:
    """``text`` as a double-quoted Python string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def stub_lines(region: Region, newline: str = "\n") -> list[str]:
    """``raise NotImplementedError("<function>: <hint>")`` at the region's indent, wrapped."""
    indent = region.indent
    one_line = f"{indent}raise NotImplementedError({_string_literal(region.message)})"
    if len(one_line) <= LINE_LENGTH:
        return [one_line + newline]
    width = LINE_LENGTH - len(indent) - 4 - 3  # inner indent, two quotes and a space
    pieces = textwrap.wrap(region.message, width, break_long_words=False, break_on_hyphens=False)
    body = [
        f"{indent}    {_string_literal(piece + (' ' if i < len(pieces) - 1 else ''))}{newline}"
        for i, piece in enumerate(pieces)
    ]
    return [f"{indent}raise NotImplementedError({newline}", *body, f"{indent}){newline}"]


def strip_solutions(path: Path, text: str) -> tuple[str, list[Stub]]:
    """The student's version of a file and its stubs; MarkerError if it would not compile."""
    regions = find_regions(path, text)
    if not regions:
        return text, []
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    stubs: list[Stub] = []
    position = 0
    for region in regions:
        out.extend(lines[position : region.begin - 1])
        begin_line = lines[region.begin - 1]
        newline = "\r\n" if begin_line.endswith("\r\n") else "\n"
        stubs.append(Stub(len(out) + 1, region.function, region.hint))
        out.extend(stub_lines(region, newline))
        position = region.end
    out.extend(lines[position:])
    released = "".join(out)
    try:
        compile(released, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        culprit = regions[0]
        for region, stub in zip(regions, stubs):
            if stub.line <= (error.lineno or 1):
                culprit = region
        raise _fail(
            path,
            culprit.begin,
            f"with its solution regions replaced the file does not compile "
            f"(line {error.lineno} of the released file: {error.msg}); "
            "a region must hold whole statements",
        ) from None
    return released, stubs
