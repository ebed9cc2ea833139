import ast

import pytest

from grader.authoring.template import MarkerError, find_regions, solution_text, strip_solutions

REFERENCE_STYLE = '''class Net:
    def __init__(self) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.layer = 1
        # END SOLUTION


def loss(x):
    """Docstring stays."""
    ### BEGIN SOLUTION
    y = x * 2
    return y
    ### END SOLUTION


LEARNING_RATE = 1e-4  # SOLUTION


def hinted():
    # BEGIN SOLUTION: add the two numbers
    return 1 + 2
    # END SOLUTION
'''


def test_regions_become_raising_todos_that_keep_indentation_and_surroundings():
    stub = strip_solutions(REFERENCE_STYLE, "task.py")
    assert "super().__init__()" in stub and '"""Docstring stays."""' in stub
    assert "        # TODO: implement Net.__init__\n" in stub
    assert '        raise NotImplementedError("TODO in task.py: implement Net.__init__")\n' in stub
    assert '    raise NotImplementedError("TODO in task.py: implement loss")\n' in stub
    assert "LEARNING_RATE = ...\n" in stub
    assert "    # TODO: add the two numbers\n" in stub
    ast.parse(stub)  # still a valid module


def test_no_solution_text_survives():
    stub = strip_solutions(REFERENCE_STYLE, "task.py")
    hidden = solution_text(REFERENCE_STYLE, "task.py")
    assert hidden == ["self.layer = 1", "y = x * 2", "return y", "return 1 + 2", "1e-4"]
    assert not any(text in stub for text in hidden)


def test_stubs_raise_with_the_todo_in_the_message():
    namespace: dict = {}
    exec(compile(strip_solutions(REFERENCE_STYLE, "task.py"), "task.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="TODO in task.py: implement loss"):
        namespace["loss"](3)


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", r"task.py:2: BEGIN SOLUTION is never closed"),
        (
            "def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
            r"task.py:3: BEGIN SOLUTION inside the region opened at line 2",
        ),
        (
            "def f():\n    # BEGIN SOLUTION\n\n    # END SOLUTION\n",
            r"task.py:2: empty solution region \(closed at line 4\)",
        ),
        ("def f():\n    return 1\n    ### END SOLUTION\n", r"task.py:3: END SOLUTION without a BEGIN SOLUTION"),
    ],
)
def test_marker_errors_name_file_and_line(source, message):
    with pytest.raises(MarkerError, match=message):
        find_regions(source, "task.py")
    with pytest.raises(MarkerError, match=message):
        strip_solutions(source, "task.py")


def test_stripping_is_deterministic_and_idempotent():
    once = strip_solutions(REFERENCE_STYLE, "task.py")
    assert once == strip_solutions(REFERENCE_STYLE, "task.py")
    assert strip_solutions(once, "task.py") == once
