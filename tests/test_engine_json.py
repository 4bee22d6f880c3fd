"""The engine's JSON packer (rust_bridge.json_pack), which the kernel's wire format uses
for every message, writes exactly the bytes the standard library's encoder writes; what
it refuses goes through the standard library (tests run in a kernel: the engine exists
only inside the host)."""

from kernel_helpers import eval_text, execute, of_type, run_ok

# Runs in the kernel: hypothesis generates JSON-like values (and dates, bytes, enums,
# tuples, int/float/bool/None keys) and compares both encoders on each.
PROPERTY = r"""
import datetime, enum, json, math
import rust_bridge
from hypothesis import given, settings, strategies as st
from jupyter_client.jsonutil import json_default

class Level(enum.IntEnum):
    HIGH = 3

encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=json_default
).encode
text = st.text(st.characters(blacklist_categories=("Cs",)))  # no lone surrogates
scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**100, max_value=2**100)
    | st.floats(allow_nan=False, allow_infinity=False) | text
    | st.dates() | st.datetimes(timezones=st.just(datetime.timezone.utc)) | st.binary()
    | st.just(Level.HIGH)
)
finite = st.floats(allow_nan=False, allow_infinity=False)
keys = text | st.integers() | st.booleans() | st.none() | finite
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner) | st.tuples(inner, inner) | st.dictionaries(keys, inner),
    max_leaves=30,
)

@settings(max_examples=400, deadline=None, database=None)
@given(values)
def same_bytes(value):
    assert rust_bridge.json_pack(value, json_default) == encode(value).encode("utf8")

same_bytes()
"ok"
"""


def test_json_pack_writes_the_standard_librarys_bytes(kernel):
    assert eval_text(kernel, PROPERTY, timeout=120) == "'ok'"


def test_errors_are_the_standard_librarys(kernel):
    code = (
        "import rust_bridge\n"
        "def err(v):\n"
        "    try:\n"
        "        rust_bridge.json_pack(v)\n"
        "    except Exception as e:\n"
        "        return type(e).__name__\n"
        "loop = []; loop.append(loop)\n"
        "[err(float('nan')), err({(1, 2): 3}), err(object()), err(loop), err('\\udc80')]"
    )
    assert eval_text(kernel, code) == (
        "['ValueError', 'TypeError', 'TypeError', 'ValueError', 'ValueError']"
    )


def test_a_lone_surrogate_still_reaches_the_client(kernel):
    """json_pack refuses it; the standard library encodes it with surrogateescape, as
    ipykernel does, and the message goes out."""
    reply, outputs = execute(kernel, "print('a\\udc80b')")
    assert reply["status"] == "ok", reply
    [stream] = of_type(outputs, "stream")
    assert stream["text"].startswith("a") and stream["text"].rstrip().endswith("b"), stream


def test_ten_megabytes_of_html_arrive_intact(kernel):
    outputs = run_ok(
        kernel,
        "from IPython.display import HTML, display\n"
        "display(HTML('<td>café \"q\" \\\\ </td>\\n' * 400_000))",
        timeout=120,
    )
    [shown] = of_type(outputs, "display_data")
    assert shown["data"]["text/html"] == '<td>café "q" \\ </td>\n' * 400_000
