"""Probes for the `interface` checks, one module per idea as on the parent's side (grader/checks/interface/):
construct the student's networks and call them, and the functions built on them, on the parent's inputs, and
report raw outputs, the module classes a network is made of, and which documented optional parameters each
name lacks.

Every call of student code is guarded (`values.guarded`): an exception becomes `values.failure`'s
`{"kind": "error", ...}` in the reply, so a broken call costs the parent's criterion for that call only, not the
whole check. Optional arguments go through `gankit.signature.fit`, so a function without one is called without
it, and the reply says which it lacked.
"""
