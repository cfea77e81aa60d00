"""What students get: the release of a stage, with its solutions cut out and leak-checked.

- :mod:`~instructor.release.release`: ``release``, writing a stage's student release (or its
  answer key) with its tests, guide, README and noxfile.
- :mod:`~instructor.release.solutions`: the solution markers of the stage code, and the stubs
  that replace them.
- :mod:`~instructor.release.leakcheck`: ``leak-check``, finding solved stubs, solution text and
  instructor material in a student artifact, and (``check_links``) the relative links of its
  markdown.
"""
