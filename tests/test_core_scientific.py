"""The libraries notebooks are made of load and work in the kernel: numpy, pandas and
matplotlib are C extension modules that resolve the C API against the host (the
dynamic libpython it loaded, or the static one it exports: tools/matrix.py runs this on
every Python and on a static-libpython host)."""

from kernel_helpers import eval_text, of_type, run_ok


def test_numpy_computes(kernel):
    assert eval_text(kernel, "import numpy as np; int(np.arange(10).sum())") == "45"


def test_pandas_dataframe_displays_as_html(kernel):
    outputs = run_ok(kernel, "import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': [3, 4]})")
    [result] = of_type(outputs, "execute_result")
    assert "<table" in result["data"]["text/html"]
    assert "a  b" in result["data"]["text/plain"]


def test_matplotlib_inline_figure_is_a_png(kernel):
    outputs = run_ok(
        kernel,
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2]);\nplt.show()",
    )
    [figure] = of_type(outputs, "display_data")
    assert figure["data"]["image/png"], figure


def test_ssl_sqlite_and_ctypes_load(kernel):
    code = (
        "import ssl, sqlite3, ctypes, decimal, lzma\n"
        "db = sqlite3.connect(':memory:')\n"
        "(ssl.OPENSSL_VERSION.split()[0], db.execute('select 2').fetchone(),"
        " ctypes.c_int(3).value, str(decimal.Decimal('1.5') * 2))"
    )
    assert eval_text(kernel, code) == "('OpenSSL', (2,), 3, '3.0')"
