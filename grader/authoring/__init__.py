"""The tools an instructor uses to build what students get: the student template (stubs from the reference's
solution markers), its notebooks, the example submissions and the submission zips (`grade make-template`,
`grade make-examples`, `grade pack`)."""
