"""Instructor reference solutions, one module per task.

Each module becomes one student's file in the template, so it stands alone: what looks repeated between
modules (the BCE losses, the shape of a train step) is the exercise each task asks for, not shared code.
Solution regions are marked `# BEGIN SOLUTION` / `# END SOLUTION`; helpers students are given live in
`gankit.common`.
"""
