"""`grade review OUT`: grading the written answers of a graded class by hand, in the browser (app.py: the pages and
the save; render.py: answers as safe HTML; serve.py: waitress on 127.0.0.1)."""
