"""The grader: `grade submission.zip` (command line in grader/cli.py)."""
