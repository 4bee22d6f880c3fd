"""The execute path's shortcuts give exactly IPython's results.

Builtin values skip IPython's formatter walk, and cells without ``% ! ?`` (or a line
opening with ``, ; /``) skip its token pass; whatever a user registers must still
apply, and IPython syntax must still be recognised. Each test leaves the shared
kernel as it found it.
"""

from kernel_helpers import (
    errors,
    execute,
    execute_results,
    result_data,
    run_ok,
    stream_text,
)


def registered(kernel, setup: str, teardown: str, code: str) -> dict | None:
    """What ``code`` shows while ``setup`` (a formatter, a transformer) is in place."""
    run_ok(kernel, setup)
    try:
        return result_data(run_ok(kernel, code))
    finally:
        run_ok(kernel, teardown)


def test_builtin_values_show_plain_text_only(kernel):
    for code, text in [
        ("1+1", "2"),
        ("True", "True"),
        ("2.5", "2.5"),
        ("'a' * 3", "'aaa'"),
        ("[1, 'x', None]", "[1, 'x', None]"),
        ("{'k': (1, 2)}", "{'k': (1, 2)}"),
    ]:
        assert result_data(run_ok(kernel, code)) == {"text/plain": text}, code


def test_long_builtin_values_are_pretty_printed_as_in_ipython(kernel):
    text = result_data(run_ok(kernel, "[{'key': i, 'value': 'v' * 10} for i in range(4)]"))
    assert text["text/plain"].splitlines()[0] == "[{'key': 0, 'value': 'vvvvvvvvvv'},"


def test_formatter_registered_for_int_is_used(kernel):
    data = registered(
        kernel,
        "fp_html = get_ipython().display_formatter.formatters['text/html']\n"
        "fp_html.for_type(int, lambda n: f'<b>{n}</b>')",
        "fp_html.pop(int)",
        "40 + 2",
    )
    assert data == {"text/plain": "42", "text/html": "<b>42</b>"}
    assert result_data(run_ok(kernel, "40 + 2")) == {"text/plain": "42"}


def test_formatter_registered_by_type_name_is_used(kernel):
    data = registered(
        kernel,
        "fp_latex = get_ipython().display_formatter.formatters['text/latex']\n"
        "fp_latex.for_type_by_name('builtins', 'float', lambda x: f'${x}$')",
        "fp_latex.pop(float)",
        "0.5",
    )
    assert data == {"text/plain": "0.5", "text/latex": "$0.5$"}


def test_formatter_registered_for_object_applies_to_builtins(kernel):
    data = registered(
        kernel,
        "fp_md = get_ipython().display_formatter.formatters['text/markdown']\n"
        "fp_md.for_type(object, lambda o: '**obj**')",
        "fp_md.pop(object)",
        "[1]",
    )
    assert data == {"text/plain": "[1]", "text/markdown": "**obj**"}


def test_plain_text_printer_and_precision_settings_apply(kernel):
    assert result_data(run_ok(kernel, "%precision 2\n1/3")) == {"text/plain": "0.33"}
    run_ok(kernel, "%precision")
    data = registered(
        kernel,
        "fp_plain = get_ipython().display_formatter.formatters['text/plain']\n"
        "fp_plain_int = fp_plain.for_type(int, lambda n, p, cycle: p.text(f'int {n}'))",
        "fp_plain.for_type(int, fp_plain_int)",
        "7",
    )
    assert data == {"text/plain": "int 7"}


def test_disabled_formatter_types_are_respected(kernel):
    data = registered(
        kernel,
        "fp_df = get_ipython().display_formatter\n"
        "fp_df.formatters['text/html'].for_type(str, lambda s: '<i>s</i>')\n"
        "fp_df.active_types = ['text/plain']",
        "fp_df.active_types = list(fp_df.formatters)\nfp_df.formatters['text/html'].pop(str)",
        "'s'",
    )
    assert data == {"text/plain": "'s'"}


def test_a_plain_printer_that_raises_is_reported_once(kernel):
    run_ok(
        kernel,
        "fp_plain2 = get_ipython().display_formatter.formatters['text/plain']\n"
        "fp_prev = fp_plain2.for_type(int, lambda n, p, c: 1 / 0)",
    )
    try:
        _, outputs = execute(kernel, "5")
    finally:
        run_ok(kernel, "fp_plain2.for_type(int, fp_prev)")
    assert [e["ename"] for e in errors(outputs)] == ["ZeroDivisionError"], outputs
    assert execute_results(outputs) == []
    assert result_data(run_ok(kernel, "5")) == {"text/plain": "5"}


def test_ipython_syntax_is_still_recognised(kernel):
    run_ok(kernel, "def fp_f(*a):\n    return ('called', a)")
    assert result_data(run_ok(kernel, "/fp_f 1 2"))["text/plain"] == "('called', (1, 2))"
    assert result_data(run_ok(kernel, ",fp_f a b"))["text/plain"] == "('called', ('a', 'b'))"
    assert stream_text(run_ok(kernel, "fp_files = !echo fp-shell\nprint(fp_files)")) == (
        "['fp-shell']\n"
    )
    assert stream_text(run_ok(kernel, "fp_x = %pwd\nprint(type(fp_x).__name__)")) == "str\n"
    assert execute_results(run_ok(kernel, "len?")) == []


def test_plain_python_cells_keep_their_text(kernel):
    code = "fp_s = 'a ; b / c'\nfp_t = '''\n, not an escape\n'''\nlen(fp_s + fp_t)"
    assert result_data(run_ok(kernel, code)) == {"text/plain": "26"}
    assert result_data(run_ok(kernel, "  3 + 4")) == {"text/plain": "7"}  # indented cell
    assert result_data(run_ok(kernel, ">>> 5 * 5")) == {"text/plain": "25"}  # prompt


def test_user_registered_transformers_run(kernel):
    data = registered(
        kernel,
        "def fp_shout(lines):\n"
        "    return [line.replace('fp_quiet', 'fp_loud') for line in lines]\n"
        "fp_loud = 'LOUD'\n"
        "get_ipython().input_transformers_post.append(fp_shout)",
        "get_ipython().input_transformers_post.remove(fp_shout)",
        "fp_quiet",
    )
    assert data == {"text/plain": "'LOUD'"}


def test_user_registered_token_transformer_runs(kernel):
    data = registered(
        kernel,
        "from IPython.core.inputtransformer2 import TokenTransformBase\n"
        "class FpDouble(TokenTransformBase):\n"
        "    @classmethod\n"
        "    def find(cls, tokens_by_line):\n"
        "        for line in tokens_by_line:\n"
        "            if line and line[0].string == 'fp_double':\n"
        "                return cls(line[0].start)\n"
        "    def transform(self, lines):\n"
        "        return [l.replace('fp_double', '2 *') for l in lines]\n"
        "fp_mgr = get_ipython().input_transformer_manager\n"
        "fp_mgr.token_transformers.append(FpDouble)",
        "fp_mgr.token_transformers.remove(FpDouble)",
        "fp_double 21",
    )
    assert data == {"text/plain": "42"}
