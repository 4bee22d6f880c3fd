"""Cells share one real ``__main__`` namespace (globals == locals)."""

from kernel_helpers import eval_text, run_ok


def test_function_sees_global_defined_in_earlier_cell(kernel):
    run_ok(kernel, "ns_x = 1")
    run_ok(kernel, "def ns_f():\n    return ns_x")
    assert eval_text(kernel, "ns_f()") == "1"


def test_function_sees_later_global(kernel):
    run_ok(kernel, "def ns_g():\n    return ns_later")
    run_ok(kernel, "ns_later = 5")
    assert eval_text(kernel, "ns_g()") == "5"


def test_class_defined_in_one_cell_instantiated_in_next(kernel):
    run_ok(
        kernel,
        "class NsFoo:\n"
        "    def __init__(self, v):\n"
        "        self.v = v\n"
        "    def doubled(self):\n"
        "        return self.v * 2",
    )
    run_ok(kernel, "ns_foo = NsFoo(4)")
    assert eval_text(kernel, "(ns_foo.v, ns_foo.doubled(), type(ns_foo).__name__)") == (
        "(4, 8, 'NsFoo')"
    )


def test_global_statement_in_function_rebinds_module_global(kernel):
    run_ok(kernel, "ns_counter = 0")
    run_ok(kernel, "def ns_bump():\n    global ns_counter\n    ns_counter += 1")
    run_ok(kernel, "ns_bump()\nns_bump()")
    assert eval_text(kernel, "ns_counter") == "2"


def test_list_comprehension_in_function_reads_global(kernel):
    run_ok(kernel, "ns_scale = 3")
    run_ok(kernel, "def ns_scaled():\n    return [i * ns_scale for i in range(3)]")
    assert eval_text(kernel, "ns_scaled()") == "[0, 3, 6]"


def test_list_comprehension_at_top_level_reads_cell_variable(kernel):
    assert eval_text(kernel, "ns_k = 10\n[ns_k + i for i in range(2)]") == "[10, 11]"


def test_dunder_name_is_main(kernel):
    assert eval_text(kernel, "__name__") == "'__main__'"


def test_cell_namespace_is_sys_modules_main(kernel):
    run_ok(kernel, "ns_in_main = 'yes'")
    assert eval_text(kernel, "import sys\nsys.modules['__main__'].ns_in_main") == "'yes'"


def test_pickle_round_trip_of_cell_defined_class_instance(kernel):
    run_ok(
        kernel,
        "import dataclasses\n@dataclasses.dataclass\nclass NsPickled:\n    a: int\n    b: str",
    )
    run_ok(
        kernel,
        "import pickle\nns_orig = NsPickled(1, 'x')\nns_copy = pickle.loads(pickle.dumps(ns_orig))",
    )
    assert eval_text(kernel, "(ns_copy == ns_orig, type(ns_copy) is NsPickled)") == ("(True, True)")
