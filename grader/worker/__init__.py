"""The code that runs inside the sandbox, next to the student's code.

This package is bound read-only into the sandbox, so it imports nothing from the grader's trusted side: only
the standard library, numpy, torch and `gankit`. `wire` is the one module both sides share.
"""
