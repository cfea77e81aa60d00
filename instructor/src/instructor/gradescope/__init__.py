"""Gradescope: the autograder zip that grades one submission the way ``grade`` does.

- :mod:`~instructor.gradescope.autograder`: ``autograder``, building the zip.
- ``setup.sh``, ``run_autograder``: the zip's two scripts (Gradescope runs the first once per
  image, the second per submission).
- :mod:`~instructor.gradescope.results`: writing a graded submission's ``results.json``.
"""
