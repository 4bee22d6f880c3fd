"""Protocol conformance with jupyter_kernel_test (the suite kernels use to check
themselves against the messaging spec), filled in as for ipykernel.

jupyter_kernel_test 0.7 has no stdin sample; ``test_pyo3_stdin_input_request``
adds one in the library's style (validated messages, its timeouts).
"""

import os
import shutil
import tempfile

import jupyter_kernel_test as jkt
from jupyter_client.manager import start_new_kernel
from jupyter_kernel_test.msgspec_v5 import validate_message
from kernel_helpers import kernel_name

_CLEAR = "from IPython.display import clear_output; clear_output()"
_PYPLOT_FIGURE = "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()"


class PyO3KernelTests(jkt.KernelTests):
    kernel_name = kernel_name()
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "import colle", "matches": {"collections"}},
    ]

    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2", "for i in range(3):"]
    invalid_code_samples = ["import = 7q", "1)"]

    code_page_something = "print?"

    code_generate_error = "raise"

    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
        {
            "code": "from IPython.display import HTML; HTML('<b>test</b>')",
            "mime": "text/html",
            "result": "<b>test</b>",
        },
    ]

    code_display_data = [
        {
            "code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
            "mime": "text/html",
        },
        {
            "code": "from IPython.display import Math, display; display(Math('\\\\frac{1}{2}'))",
            "mime": "text/latex",
        },
        {"code": _PYPLOT_FIGURE, "mime": "image/png"},
    ]

    # Matches "1+2+3" above. 'range' is tested in test_features_stdin_history.py:
    # the library compares a range reply's session with the tail's absolute
    # session number, while IPython reports the current session as 0.
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")

    code_inspect_sample = "zip"

    code_clear_output = _CLEAR

    code_stdin = "answer = input('Your answer: ')\nprint('got', answer)"

    @classmethod
    def setUpClass(cls) -> None:
        # A private IPYTHONDIR: history searches see only this kernel's cells.
        cls._ipython_dir = tempfile.mkdtemp(prefix="pyo3-conformance-")
        env = {**os.environ, "IPYTHONDIR": cls._ipython_dir}
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, env=env)

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        shutil.rmtree(cls._ipython_dir, ignore_errors=True)

    def test_pyo3_stdin_input_request(self) -> None:
        self.flush_channels()
        msg_id = self.kc.execute(self.code_stdin, allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=jkt.TIMEOUT)
        self.assertEqual(request["content"], {"prompt": "Your answer: ", "password": False})
        # The library's schema types 'password' as a number; the spec says boolean.
        as_number = {**request, "content": {**request["content"], "password": 0}}
        validate_message(as_number, "input_request", msg_id)
        self.kc.input("forty-two")
        reply = self.get_non_kernel_info_reply(timeout=jkt.TIMEOUT)
        validate_message(reply, "execute_reply", msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        texts = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=jkt.TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            validate_message(msg, msg["msg_type"], msg_id)
            if msg["msg_type"] == "stream":
                texts.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        self.assertEqual("".join(texts), "got forty-two\n")

    def test_pyo3_kernel_info_debugger_flag(self) -> None:
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self._shell_reply_to(msg_id)
        validate_message(reply, "kernel_info_reply", msg_id)
        content = reply["content"]
        features = content.get("supported_features", [])
        if self.kernel_name != "pyo3":
            # ipykernel 7 advertises its debugger in supported_features (protocol 5.5).
            self.assertTrue(content.get("debugger") or "debugger" in features, content)
            return
        # Ours too, where debugpy is importable (it is in the test environment).
        self.assertIs(content.get("debugger"), True)
        self.assertIn("debugger", features)

    def _shell_reply_to(self, msg_id: str) -> dict:
        while True:
            reply = self.kc.get_shell_msg(timeout=jkt.TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply


class PyO3IopubWelcomeTests(jkt.IopubWelcomeTests):
    """Protocol 5.4: the first IOPub message a new subscriber gets is iopub_welcome."""

    kernel_name = kernel_name()
    support_iopub_welcome = True
