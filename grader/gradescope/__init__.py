"""Grading on Gradescope: the autograder bundle (`grade gradescope-bundle`), the script it runs in Gradescope's
container (`autograder.py`), what students see there (`results.py`), and the run-time budget (`budget.py`)."""
