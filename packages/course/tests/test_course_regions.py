"""Solution regions: parsing the markers, and the student's version of a file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gradstack.course.regions import LINE_LENGTH, MarkerError, find_regions, strip_solutions

PATH = Path("pkg/ops.py")


def source(text: str) -> str:
    """Dedented source text."""
    return textwrap.dedent(text).lstrip("\n")


GOOD = source(
    '''
    """A module with two regions."""

    import math


    def scale(a, factor):
        """Multiply."""
        if factor is None:
            raise ValueError("scale: factor is None")
        # HINT: multiply a by factor
        # HINT: elementwise.
        # BEGIN SOLUTION
        out = a * factor
        return out
        # END SOLUTION


    class Layer:
        """Holds a weight."""

        def forward(self, x):
            def inner(y):
                # HINT: add one.
                # BEGIN SOLUTION
                return y + 1
                # END SOLUTION

            return inner(x)
    '''
)


def test_regions_are_found_with_lines_indent_hint_and_function():
    regions = find_regions(PATH, GOOD)
    assert [(r.begin, r.end, r.indent, r.function) for r in regions] == [
        (12, 15, "    ", "scale"),
        (24, 26, "            ", "Layer.forward.inner"),
    ]
    assert regions[0].hint == "multiply a by factor elementwise."
    assert regions[1].hint == "add one."
    assert regions[0].message == "scale: multiply a by factor elementwise."


def test_release_replaces_each_region_by_a_raise_at_its_indent():
    released, stubs = strip_solutions(PATH, GOOD)
    lines = released.splitlines()
    assert [(s.line, s.function) for s in stubs] == [(12, "scale"), (21, "Layer.forward.inner")]
    assert lines[11] == '    raise NotImplementedError("scale: multiply a by factor elementwise.")'
    assert lines[20] == '            raise NotImplementedError("Layer.forward.inner: add one.")'
    # everything outside the regions, HINT lines included, is unchanged
    original = GOOD.splitlines()
    assert lines[:11] == original[:11]
    assert lines[12:20] == original[15:23]
    assert lines[21:] == original[26:]
    assert "BEGIN SOLUTION" not in released and "out = a * factor" not in released


def test_released_code_imports_and_raises_with_the_hint():
    released, _ = strip_solutions(PATH, GOOD)
    namespace: dict = {}
    exec(compile(released, str(PATH), "exec"), namespace)
    with pytest.raises(ValueError, match="factor is None"):  # code outside regions still runs
        namespace["scale"](1, None)
    with pytest.raises(NotImplementedError, match=r"^scale: multiply a by factor elementwise\.$"):
        namespace["scale"](1, 2)
    with pytest.raises(NotImplementedError, match=r"^Layer\.forward\.inner: add one\.$"):
        namespace["Layer"]().forward(1)


def test_a_long_hint_wraps_within_the_line_length_and_keeps_its_text():
    hint = "compute " + " ".join(f"term{i} * x**{i}" for i in range(30)) + ' with "quotes" \\ too'
    chunks = [hint[i : i + 80].strip() for i in range(0, len(hint), 80)]
    hints = "".join(f"        # HINT: {chunk}\n" for chunk in chunks)
    text = f"def f(x):\n    if x:\n{hints}        # BEGIN SOLUTION\n        return 1\n"
    text += "        # END SOLUTION\n    return 0\n"
    released, _ = strip_solutions(PATH, text)
    assert max(len(line) for line in released.splitlines()) <= LINE_LENGTH
    namespace: dict = {}
    exec(compile(released, str(PATH), "exec"), namespace)
    assert namespace["f"](0) == 0
    with pytest.raises(NotImplementedError) as error:
        namespace["f"](1)
    assert str(error.value) == f"f: {' '.join(chunks)}"


def test_windows_line_endings_are_kept():
    text = GOOD.replace("\n", "\r\n")
    released, _ = strip_solutions(PATH, text)
    assert released.count("\r\n") == released.count("\n")


def test_a_file_without_markers_is_returned_unchanged():
    text = "def f():\n    return 1\n"
    assert strip_solutions(PATH, text) == (text, [])


def test_marker_text_inside_strings_is_not_a_marker():
    text = source(
        '''
        def f():
            """Example:

            # BEGIN SOLUTION
            """
            return "# END SOLUTION"
        '''
    )
    assert find_regions(PATH, text) == []


def error_of(text: str) -> str:
    """The MarkerError message for ``text`` (which must have one)."""
    with pytest.raises(MarkerError) as error:
        strip_solutions(PATH, source(text))
    return str(error.value)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            """
            def f():
                # HINT: a
                # BEGIN SOLUTION
                x = 1
                # BEGIN SOLUTION
                return x
                # END SOLUTION
            """,
            5,
            "inside the region opened at line 3",
        ),
        (
            """
            def f():
                return 1
                # END SOLUTION
            """,
            3,
            "without a # BEGIN SOLUTION",
        ),
        (
            """
            def f():
                # HINT: a
                # BEGIN SOLUTION
                return 1
            """,
            3,
            "never closed",
        ),
        (
            """
            def f():
                # HINT: a
                # BEGIN SOLUTION
                return 1
              # END SOLUTION
            """,
            5,
            "not indented like",
        ),
        (
            """
            def f():
                # HINT: a
                # BEGIN SOLUTION
                # END SOLUTION
                return 1
            """,
            3,
            "empty solution region",
        ),
        (
            """
            # HINT: a
            # BEGIN SOLUTION
            X = 1
            # END SOLUTION
            """,
            2,
            "inside a function body",
        ),
        (
            """
            class C:
                # HINT: a
                # BEGIN SOLUTION
                x = 1
                # END SOLUTION
            """,
            3,
            "inside a function body",
        ),
        (
            """
            def f():
                # BEGIN  SOLUTION
                return 1
                # END SOLUTION
            """,
            2,
            "malformed marker",
        ),
        (
            """
            def f():
                #BEGIN SOLUTION
                return 1
            """,
            2,
            "malformed marker",
        ),
        (
            """
            def f():
                x = 1  # BEGIN SOLUTION
                return x
            """,
            2,
            "malformed marker",
        ),
        (
            """
            def f():
                # hint: lower case
                return 1
            """,
            2,
            "malformed marker",
        ),
        (
            """
            def f():
                # HINT: a hint that leads nowhere

                return 1
            """,
            2,
            "directly above # BEGIN SOLUTION",
        ),
        (
            """
            def f():
                # HINT: a
                # BEGIN SOLUTION
                # HINT: b
                return 1
                # END SOLUTION
            """,
            4,
            "a HINT inside a solution region",
        ),
        (
            """
            def f(x):
                # HINT: a
                # BEGIN SOLUTION
                try:
                    y = x
                # END SOLUTION
                except ValueError:
                    y = 0
                return y
            """,
            3,
            "does not compile",
        ),
    ],
    ids=[
        "nested",
        "stray-end",
        "unclosed",
        "end-indent",
        "empty",
        "module-level",
        "class-body",
        "double-space",
        "no-space",
        "after-code",
        "lower-case-hint",
        "hint-alone",
        "hint-inside",
        "partial-statement",
    ],
)
def test_bad_markers_name_the_file_and_line(text: str, line: int, words: str):
    message = error_of(text)
    assert message.startswith(f"{PATH}:{line}: "), message
    assert words in message, message


def test_a_file_that_is_not_python_is_a_marker_error_with_its_line():
    message = error_of(
        "def f(:\n    # HINT: a\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n"
    )
    assert message.startswith(f"{PATH}:1: "), message
