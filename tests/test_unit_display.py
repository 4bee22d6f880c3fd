"""Unit tests (no kernel process) of ``pyo3_kernel.display.KernelDisplayFormatter``.

The formatter answers for builtin values without asking every IPython formatter,
when it can prove the answer is plain text only. That proof is what is tested: for
many builtin values its ``format()`` equals IPython's own ``DisplayFormatter``, and
as soon as anything is registered that could change the answer (a printer for the
type, a base class, ``object``, the very object, by name; a mimebundle or
``_ipython_display_`` printer; a disabled formatter; include/exclude) it must still
equal ``DisplayFormatter``. Both formatters are created standalone, without a shell
(``DisplayFormatter()`` works outside IPython).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from IPython.core.formatters import BaseFormatter, DisplayFormatter
from pyo3_kernel.display import PLAIN_TYPES, KernelDisplayFormatter
from traitlets import ObjectName, Unicode


def recursive_list() -> list:
    items: list = [1]
    items.append(items)
    return items


def recursive_dict() -> dict:
    d: dict = {"a": 1}
    d["self"] = d
    return d


class WithHtml:
    def _repr_html_(self) -> str:
        return "<b>html</b>"

    def __repr__(self) -> str:
        return "WithHtml()"


VALUES: list[Any] = [
    0,
    1,
    -17,
    2**64,
    -(10**300),
    True,
    False,
    1.5,
    -0.0,
    1e300,
    float("nan"),
    float("inf"),
    1 / 3,
    3 + 4j,
    complex(0, -1),
    "",
    "plain",
    "h\u00e9llo \u2603 \U0001f600 \u05e9\u05dc\u05d5\u05dd",
    "line\nbreak\ttab 'quotes' \"double\"",
    "x" * 5000,
    b"",
    b"bytes\x00\xff",
    bytes(range(256)),
    [],
    [1, 2, 3],
    list(range(2000)),  # longer than max_seq_length: elided
    [[1, [2, [3, [4, [5]]]]], {"k": (1,)}],
    (),
    (1,),
    (1, "two", 3.0, None),
    {},
    {"b": 2, "a": 1, "\u00e9": [1, 2]},
    {1: {2: {3: {4: "deep"}}}},
    {i: "v" * i for i in range(60)},  # wraps over lines
    set(),
    {3, 1, 2},
    {"b", "a", "\u00e9"},
    frozenset(),
    frozenset({1, 2}),
    range(0),
    range(10),
    range(-5, 50, 7),
    [WithHtml(), Fraction(1, 3)],  # contents with rich reprs: the list shows as text
    {"rich": WithHtml()},
    recursive_list(),
    recursive_dict(),
    [1.5, float("nan"), 2**100],
]


def ids(value: Any) -> str:
    text = repr(value) if type(value) is not list or len(value) < 50 else "long-list"
    return f"{type(value).__name__}:{text[:30]}"


@pytest.fixture
def formatters() -> tuple[KernelDisplayFormatter, DisplayFormatter]:
    return KernelDisplayFormatter(), DisplayFormatter()


def both(setup: Callable[[DisplayFormatter], None]) -> tuple[DisplayFormatter, DisplayFormatter]:
    """A kernel formatter and IPython's, each set up the same way."""
    kernel, reference = KernelDisplayFormatter(), DisplayFormatter()
    setup(kernel)
    setup(reference)
    return kernel, reference


def assert_same(kernel: DisplayFormatter, reference: DisplayFormatter, value: Any) -> tuple:
    result = kernel.format(value)
    assert result == reference.format(value)
    return result


@pytest.mark.parametrize("value", VALUES, ids=ids)
def test_builtin_values_format_as_ipython_does(formatters, value):
    kernel, reference = formatters
    result = assert_same(kernel, reference, value)
    assert list(result[0]) == ["text/plain"]


def test_every_plain_type_is_in_the_corpus():
    assert {type(v) for v in VALUES} >= PLAIN_TYPES


def test_ints_too_large_for_str_fail_the_same_way(formatters, capsys):
    # Python refuses str() of ints above 4300 digits: IPython's formatter shows the
    # error and returns nothing.
    if sys.get_int_max_str_digits() == 0:
        pytest.skip("the int string conversion limit is disabled")
    kernel, reference = formatters
    assert assert_same(kernel, reference, 10**5000) == ({}, {})
    assert capsys.readouterr().err.count("Exceeds the limit") == 2


def test_subclasses_of_builtins_take_the_full_path(formatters):
    class HtmlInt(int):
        def _repr_html_(self) -> str:
            return f"<i>{int(self)}</i>"

    class JsonDict(dict):
        def _repr_json_(self) -> dict:
            return dict(self)

    kernel, reference = formatters
    assert assert_same(kernel, reference, HtmlInt(5))[0]["text/html"] == "<i>5</i>"
    assert assert_same(kernel, reference, JsonDict(a=1))[0]["application/json"] == {"a": 1}
    assert_same(kernel, reference, OrderedDict(a=1))


def test_rich_objects_are_unaffected(formatters):
    kernel, reference = formatters
    assert assert_same(kernel, reference, WithHtml())[0]["text/html"] == "<b>html</b>"
    assert_same(kernel, reference, Fraction(1, 3))
    assert_same(kernel, reference, None)


# --- printers registered by users and libraries ---------------------------------------


def test_html_printer_for_int_is_used():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/html"].for_type(int, lambda n: f"<b>{n}</b>")

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, 7)[0] == {"text/plain": "7", "text/html": "<b>7</b>"}
    # bool subclasses int: the printer applies to it too, as in IPython.
    assert assert_same(kernel, reference, True)[0]["text/html"] == "<b>True</b>"
    # Other builtin types are unaffected.
    assert list(assert_same(kernel, reference, 7.0)[0]) == ["text/plain"]


def test_plain_text_printer_for_int_is_used():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/plain"].for_type(int, lambda n, p, cycle: p.text(f"INT<{n}>"))

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, 3)[0] == {"text/plain": "INT<3>"}
    assert assert_same(kernel, reference, [1, 2])[0] == {"text/plain": "[INT<1>, INT<2>]"}


def test_printer_for_object_applies_to_every_builtin():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/latex"].for_type(object, lambda o: f"$${type(o).__name__}$$")

    kernel, reference = both(setup)
    for value in (1, "s", [1], {"a": 1}, range(2), b"x", {1}, 1.5):
        assert assert_same(kernel, reference, value)[0]["text/latex"].startswith("$$")


def test_printer_registered_by_name_is_used():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/markdown"].for_type_by_name("builtins", "list", lambda v: "*list*")

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, [1])[0]["text/markdown"] == "*list*"
    assert "text/markdown" not in assert_same(kernel, reference, (1,))[0]


def test_printer_for_one_object_is_used():
    special = [1, 2, 3]

    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/html"].singleton_printers[id(special)] = lambda v: "<ul>special</ul>"

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, special)[0]["text/html"] == "<ul>special</ul>"
    assert "text/html" not in assert_same(kernel, reference, [1, 2, 3])[0]


def test_printer_returning_metadata_is_used():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["image/png"].for_type(bytes, lambda b: (b"PNG", {"width": 3}))

    kernel, reference = both(setup)
    data, metadata = assert_same(kernel, reference, b"raw")
    assert data["image/png"] == b"PNG"
    assert metadata == {"image/png": {"width": 3}}


def test_mimebundle_printer_is_used():
    def setup(f: DisplayFormatter) -> None:
        f.mimebundle_formatter.for_type(
            dict, lambda d, include=None, exclude=None: {"application/json": d}
        )

    kernel, reference = both(setup)
    data, _ = assert_same(kernel, reference, {"a": [1]})
    assert data["application/json"] == {"a": [1]}


def test_ipython_display_printer_is_called_and_nothing_is_returned():
    calls: list[tuple[str, Any]] = []

    def setup(f: DisplayFormatter) -> None:
        name = "kernel" if isinstance(f, KernelDisplayFormatter) else "reference"
        f.ipython_display_formatter.for_type(str, lambda s: calls.append((name, s)) or True)

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, "shown elsewhere") == ({}, {})
    assert calls == [("kernel", "shown elsewhere"), ("reference", "shown elsewhere")]


def test_disabled_formatter_is_skipped_even_with_a_printer():
    def setup(f: DisplayFormatter) -> None:
        html = f.formatters["text/html"]
        html.for_type(int, lambda n: "<b>n</b>")
        html.enabled = False

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, 1)[0] == {"text/plain": "1"}


def test_disabled_plain_text_formatter():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/plain"].enabled = False

    kernel, reference = both(setup)
    for value in (1, "text", [1, 2]):
        assert_same(kernel, reference, value)


def test_active_types_limit_the_output():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/html"].for_type(int, lambda n: "<b>n</b>")
        f.active_types = ["text/plain"]

    kernel, reference = both(setup)
    assert_same(kernel, reference, 1)


def test_plain_text_settings_apply():
    def setup(f: DisplayFormatter) -> None:
        plain = f.formatters["text/plain"]
        plain.float_precision = "%.2f"
        plain.max_seq_length = 5
        plain.max_width = 20

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, 3.14159)[0] == {"text/plain": "3.14"}
    assert assert_same(kernel, reference, list(range(10)))[0]["text/plain"].endswith("...]")
    assert_same(kernel, reference, {i: i for i in range(4)})


def test_plain_text_without_pretty_printing():
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/plain"].pprint = False

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, {i: "x" * 20 for i in range(10)})
    assert assert_same(kernel, reference, {3, 2, 1})


def test_failing_printer_fails_the_same_way(capsys):
    def broken(value: Any) -> str:
        raise RuntimeError("printer is broken")

    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/html"].for_type(float, broken)

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, 2.5)[0] == {"text/plain": "2.5"}
    assert capsys.readouterr().err.count("RuntimeError: printer is broken") == 2


def test_custom_formatter_added_by_a_library_is_asked():
    class CustomFormatter(BaseFormatter):
        format_type = Unicode("text/x-custom")
        print_method = ObjectName("_repr_custom_")

    def setup(f: DisplayFormatter) -> None:
        custom = CustomFormatter(parent=f)
        custom.for_type(tuple, lambda t: f"custom {len(t)}")
        f.formatters["text/x-custom"] = custom

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, (1, 2))[0]["text/x-custom"] == "custom 2"
    assert "text/x-custom" not in assert_same(kernel, reference, [1, 2])[0]


def test_printer_removed_again_is_no_longer_used():
    def setup(f: DisplayFormatter) -> None:
        html = f.formatters["text/html"]
        html.for_type(str, lambda s: "<s>")
        html.pop(str)

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, "s")[0] == {"text/plain": "'s'"}


def test_plain_text_formatter_removed():
    def setup(f: DisplayFormatter) -> None:
        del f.formatters["text/plain"]

    kernel, reference = both(setup)
    assert assert_same(kernel, reference, 1) == ({}, {})


@pytest.mark.parametrize(
    "include, exclude",
    [
        (["text/plain"], None),
        (None, ["text/plain"]),
        (["text/html"], None),
        (None, ["text/html"]),
    ],
)
def test_include_and_exclude_take_the_full_path(include, exclude):
    def setup(f: DisplayFormatter) -> None:
        f.formatters["text/html"].for_type(int, lambda n: "<b>n</b>")

    kernel, reference = both(setup)
    for value in (1, "x", [1]):
        result = kernel.format(value, include=include, exclude=exclude)
        assert result == reference.format(value, include=include, exclude=exclude)
