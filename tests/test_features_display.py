"""Rich output as a notebook shows it: display(), IPython.display objects, rich
reprs, display updates, clear_output, pandas, and inline matplotlib figures."""

import base64

import pytest
from kernel_helpers import execute_results, of_type, result_data, run_ok

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8"


def displays(outputs):
    return of_type(outputs, "display_data")


def only_display(outputs):
    shown = displays(outputs)
    assert len(shown) == 1, f"expected one display_data, got {outputs!r}"
    return shown[0]


def test_display_of_plain_object_is_display_data_text_plain(kernel):
    outputs = run_ok(kernel, "display([1, 2, 3])")
    assert only_display(outputs)["data"] == {"text/plain": "[1, 2, 3]"}
    assert execute_results(outputs) == []


def test_display_of_several_objects_sends_one_message_each(kernel):
    outputs = run_ok(kernel, "display('a', 'b')")
    assert [d["data"]["text/plain"] for d in displays(outputs)] == ["'a'", "'b'"]


@pytest.mark.parametrize(
    "code, mime, expected",
    [
        ("HTML('<b>bold</b>')", "text/html", "<b>bold</b>"),
        ("Markdown('**md**')", "text/markdown", "**md**"),
        ("Latex(r'$\\alpha$')", "text/latex", "$\\alpha$"),
        ("Math(r'\\frac{1}{2}')", "text/latex", "$\\displaystyle \\frac{1}{2}$"),
        ("JSON({'k': [1, 2]})", "application/json", {"k": [1, 2]}),
        ("Javascript('console.log(1)')", "application/javascript", "console.log(1)"),
    ],
    ids=["html", "markdown", "latex", "math", "json", "javascript"],
)
def test_ipython_display_object(kernel, code, mime, expected):
    outputs = run_ok(kernel, f"from IPython.display import *\ndisplay({code})")
    data = only_display(outputs)["data"]
    assert data[mime] == expected, data
    assert "text/plain" in data, data


def test_display_svg(kernel):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'
    outputs = run_ok(kernel, f"from IPython.display import SVG, display\ndisplay(SVG({svg!r}))")
    data = only_display(outputs)["data"]
    assert "<rect" in data["image/svg+xml"], data


# A small image made without pyplot (so no inline figure is shown as well).
_MAKE_IMAGE = """
import io
from matplotlib.figure import Figure
_fig = Figure(figsize=(0.3, 0.2), dpi=50)
_fig.add_subplot().plot([0, 1])
_buf = io.BytesIO()
_fig.savefig(_buf, format={fmt!r})
from IPython.display import Image, display
display(Image(data=_buf.getvalue(), format={fmt!r}))
"""


@pytest.mark.parametrize(
    "fmt, mime, magic",
    [("png", "image/png", PNG_MAGIC), ("jpeg", "image/jpeg", JPEG_MAGIC)],
)
def test_display_image(kernel, fmt, mime, magic):
    outputs = run_ok(kernel, _MAKE_IMAGE.format(fmt=fmt))
    data = only_display(outputs)["data"]
    assert base64.b64decode(data[mime]).startswith(magic), data.keys()


def test_display_image_from_raw_png_bytes_keeps_width_metadata(kernel):
    # A 1x1 PNG written out byte for byte.
    png = (
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
    code = (
        "from IPython.display import Image, display\n"
        f"display(Image(data=bytes.fromhex({png!r}), width=10))"
    )
    shown = only_display(run_ok(kernel, code))
    assert base64.b64decode(shown["data"]["image/png"]) == bytes.fromhex(png)
    assert shown["metadata"]["image/png"]["width"] == 10, shown["metadata"]


def test_object_with_rich_reprs_is_execute_result_with_all_mimetypes(kernel):
    code = """
class Rich:
    def _repr_html_(self):
        return '<i>rich</i>'
    def _repr_markdown_(self):
        return '*rich*'
    def __repr__(self):
        return 'Rich()'
Rich()
"""
    outputs = run_ok(kernel, code)
    assert displays(outputs) == []
    assert result_data(outputs) == {
        "text/plain": "Rich()",
        "text/html": "<i>rich</i>",
        "text/markdown": "*rich*",
    }


def test_repr_mimebundle_result_has_custom_mimetypes(kernel):
    code = """
class Bundle:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {'application/x-pyo3-test': {'n': 1}, 'text/html': '<p>bundle</p>'}
    def __repr__(self):
        return 'Bundle()'
Bundle()
"""
    data = result_data(run_ok(kernel, code))
    assert data is not None
    assert data["application/x-pyo3-test"] == {"n": 1}, data
    assert data["text/html"] == "<p>bundle</p>", data
    assert data["text/plain"] == "Bundle()", data


def test_display_id_true_then_update_sends_update_display_data(kernel):
    code = "h = display('before', display_id=True)\nh.update('after')"
    outputs = run_ok(kernel, code)
    shown = only_display(outputs)
    updates = of_type(outputs, "update_display_data")
    assert len(updates) == 1, outputs
    display_id = shown["transient"]["display_id"]
    assert display_id, shown
    assert updates[0]["transient"]["display_id"] == display_id
    assert shown["data"]["text/plain"] == "'before'"
    assert updates[0]["data"]["text/plain"] == "'after'"


def test_update_display_from_a_later_cell(kernel):
    first = run_ok(kernel, "display('v1', display_id='pyo3-test-id')")
    assert only_display(first)["transient"] == {"display_id": "pyo3-test-id"}
    later = run_ok(
        kernel,
        "from IPython.display import update_display\n"
        "update_display('v2', display_id='pyo3-test-id')",
    )
    updates = of_type(later, "update_display_data")
    assert [u["transient"]["display_id"] for u in updates] == ["pyo3-test-id"], later
    assert updates[0]["data"]["text/plain"] == "'v2'"


def test_clear_output_wait_true(kernel):
    outputs = run_ok(kernel, "from IPython.display import clear_output\nclear_output(wait=True)")
    assert of_type(outputs, "clear_output") == [{"wait": True}], outputs


def test_clear_output_default_does_not_wait(kernel):
    outputs = run_ok(kernel, "from IPython.display import clear_output\nclear_output()")
    assert of_type(outputs, "clear_output") == [{"wait": False}], outputs


def test_pandas_dataframe_result_has_html_table(kernel):
    code = "import pandas as pd\npd.DataFrame({'col_a': [1, 2], 'col_b': ['x', 'y']})"
    data = result_data(run_ok(kernel, code))
    assert data is not None
    assert "<table" in data["text/html"] and "col_a" in data["text/html"], data
    assert "col_b" in data["text/plain"], data


# --- matplotlib ---------------------------------------------------------------------


def _images(outputs):
    return [d for d in displays(outputs) if "image/png" in d["data"]]


def test_matplotlib_backend_is_inline_by_default(kernel):
    outputs = run_ok(kernel, "import matplotlib\nmatplotlib.get_backend()")
    assert "inline" in result_data(outputs)["text/plain"], outputs


def test_pyplot_figure_is_shown_as_png_at_end_of_cell(kernel):
    outputs = run_ok(kernel, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint('drawn')")
    images = _images(outputs)
    assert len(images) == 1, outputs
    assert base64.b64decode(images[0]["data"]["image/png"]).startswith(PNG_MAGIC)
    assert outputs[-1]["msg_type"] == "display_data", "the figure comes last"
    assert outputs[-1]["content"] is images[0]


def test_pyplot_show_displays_figure_once(kernel):
    outputs = run_ok(kernel, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
    assert len(_images(outputs)) == 1, outputs


def test_pyplot_show_shows_figure_before_later_output(kernel):
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\nprint('after show')"
    outputs = run_ok(kernel, code)
    kinds = [o["msg_type"] for o in outputs if o["msg_type"] in ("display_data", "stream")]
    assert kinds == ["display_data", "stream"], outputs


def test_figures_are_closed_after_the_cell(kernel):
    run_ok(kernel, "import matplotlib.pyplot as plt\nplt.figure()\nplt.plot([1, 2])")
    outputs = run_ok(kernel, "plt.get_fignums()")
    assert result_data(outputs) == {"text/plain": "[]"}
