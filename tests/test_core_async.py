"""Top-level await and asyncio inside cells."""

from kernel_helpers import eval_text, run_ok


def test_top_level_await(kernel):
    run_ok(kernel, "import asyncio")
    assert eval_text(kernel, "await asyncio.sleep(0.01); 42") == "42"


def test_coroutine_function_defined_in_one_cell_awaited_in_next(kernel):
    run_ok(
        kernel,
        "import asyncio\n"
        "async def async_value():\n"
        "    await asyncio.sleep(0)\n"
        "    return 'awaited'",
    )
    assert eval_text(kernel, "await async_value()") == "'awaited'"


def test_top_level_await_result_assigned_and_visible_later(kernel):
    run_ok(kernel, "import asyncio\nasync_got = await asyncio.sleep(0, result=13)")
    assert eval_text(kernel, "async_got") == "13"


def test_asyncio_run_in_cell(kernel):
    run_ok(kernel, "import asyncio\nasync def main():\n    await asyncio.sleep(0)\n    return 7")
    assert eval_text(kernel, "asyncio.run(main())") == "7"
