"""Tab completion, object inspection (Shift-Tab) and is_complete (console Enter)."""

import pytest
from feature_helpers import request
from kernel_helpers import run_ok, strip_ansi


@pytest.fixture(scope="module")
def kc(kernel):
    run_ok(
        kernel,
        "import os\n"
        "comp_dict = {'alpha': 1, 'beta': 2}\n"
        "def comp_fn(a, b=2):\n"
        "    'Docstring of comp_fn.'\n"
        "    return a + b\n",
    )
    return kernel


def complete(kc, code, cursor_pos=None):
    reply = request(kc, "complete", code, cursor_pos)
    assert reply["status"] == "ok", reply
    return reply


def test_attribute_completion(kc):
    code = "import os; os.pa"
    reply = complete(kc, code)
    assert "path" in reply["matches"], reply["matches"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (len(code) - 2, len(code))


def test_module_name_completion_in_import(kc):
    reply = complete(kc, "import colle")
    assert "collections" in reply["matches"], reply["matches"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (7, 12)


def test_builtin_name_completion(kc):
    assert "zip" in complete(kc, "zi")["matches"]


def test_dict_key_completion(kc):
    code = "comp_dict['al"
    reply = complete(kc, code)
    assert reply["matches"] == ["alpha"], reply
    assert (reply["cursor_start"], reply["cursor_end"]) == (len(code) - 2, len(code))


def test_file_path_completion_in_string(kc, tmp_path):
    (tmp_path / "pyo3_completion_target.txt").write_text("")
    prefix = f"{tmp_path}/pyo3_completion_t"
    code = f"open('{prefix}"
    reply = complete(kc, code)
    assert f"{tmp_path}/pyo3_completion_target.txt" in reply["matches"], reply
    assert reply["cursor_start"] == len("open('"), reply
    assert reply["cursor_end"] == len(code), reply


def test_cursor_in_middle_line_of_multiline_cell(kc):
    code = "x = 1\nos.pa\ny = 2"
    cursor = code.index("os.pa") + len("os.pa")
    reply = complete(kc, code, cursor)
    assert "path" in reply["matches"], reply["matches"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (cursor - 2, cursor), reply
    assert not any(m.startswith("y") for m in reply["matches"]), reply["matches"]


def test_completion_metadata_has_types(kc):
    reply = complete(kc, "import colle")
    types = reply["metadata"]["_jupyter_types_experimental"]
    assert [t["text"] for t in types] == reply["matches"], types
    entry = next(t for t in types if t["text"] == "collections")
    assert entry["type"] == "module", entry
    assert (entry["start"], entry["end"]) == (7, 12), entry


def test_completion_metadata_types_for_attributes(kc):
    reply = complete(kc, "os.pa")
    types = reply["metadata"]["_jupyter_types_experimental"]
    assert {t["text"] for t in types} == set(reply["matches"]), types
    assert all(isinstance(t["type"], str) and t["type"] for t in types), types
    by_text = {t["text"]: t for t in types}
    assert by_text["pathconf"]["signature"].startswith("("), by_text["pathconf"]


def test_no_completions_keep_cursor(kc):
    code = "zzz_no_such_name_qq"
    reply = complete(kc, code)
    assert reply["matches"] == [], reply
    assert reply["cursor_end"] == len(code), reply


# --- inspection ---------------------------------------------------------------------


def inspect(kc, code, cursor_pos, detail_level):
    reply = request(kc, "inspect", code, cursor_pos, detail_level)
    assert reply["status"] == "ok", reply
    return reply


def test_inspect_level_0_has_signature_and_docstring(kc):
    reply = inspect(kc, "comp_fn", 4, 0)
    assert reply["found"] is True, reply
    text = strip_ansi(reply["data"]["text/plain"])
    assert "comp_fn(a, b=2)" in text, text
    assert "Docstring of comp_fn." in text, text
    assert "return a + b" not in text, text


def test_inspect_level_1_has_source(kc):
    reply = inspect(kc, "comp_fn", 4, 1)
    assert reply["found"] is True, reply
    text = strip_ansi(reply["data"]["text/plain"])
    assert "comp_fn(a, b=2)" in text, text
    assert "return a + b" in text, text


def test_inspect_name_at_cursor_inside_call(kc):
    code = "comp_fn(1, "
    reply = inspect(kc, code, len(code), 0)
    assert reply["found"] is True, reply
    assert "Docstring of comp_fn." in strip_ansi(reply["data"]["text/plain"])


def test_inspect_unknown_name_not_found(kc):
    reply = inspect(kc, "no_such_name_for_inspect", 5, 0)
    assert reply["found"] is False, reply
    assert reply["data"] == {}, reply


# --- is_complete --------------------------------------------------------------------


@pytest.mark.parametrize("code", ["x = 1", "print('hi')", "def f(x):\n    return x\n\n"])
def test_is_complete_complete(kc, code):
    assert request(kc, "is_complete", code) == {"status": "complete"}


def test_is_complete_incomplete_block_gives_indent(kc):
    reply = request(kc, "is_complete", "for i in range(3):")
    assert reply == {"status": "incomplete", "indent": "    "}, reply


@pytest.mark.parametrize("code", ["x = (1,", "print('''hello"])
def test_is_complete_incomplete_bracket_or_string(kc, code):
    reply = request(kc, "is_complete", code)
    assert reply["status"] == "incomplete", reply
    assert reply["indent"] == "", reply


@pytest.mark.parametrize("code", ["import = 7q", "1)"])
def test_is_complete_invalid(kc, code):
    assert request(kc, "is_complete", code)["status"] == "invalid"
