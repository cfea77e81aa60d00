"""Instructor tools for the Mini-Torch course monorepo.

Run them as ``mini-torch-instructor <command>`` or ``python -m instructor <command>``:

- ``check``: every file a stage carries forward is byte-identical in the next stage, and every
  public name keeps its signature (:mod:`instructor.stages.consistency`).
- ``carry``: copy a file (or every file) of a stage into the later stages
  (:mod:`instructor.stages.carry`).
- ``release``: the student release of a stage, its new solutions replaced by stubs
  (:mod:`instructor.release.release`, :mod:`instructor.release.solutions`).
- ``grade``: grade submissions with trusted checks (student code runs in a jail per submission, the
  verdicts are computed outside it) into a gradebook, feedback and Gradescope results
  (:mod:`instructor.grading` lists the parts).
- ``autograder``: a Gradescope autograder zip that grades the same way
  (:mod:`instructor.gradescope.autograder`, :mod:`instructor.grading.kit`).
- ``collect``: each student's last commit before a due date (:mod:`instructor.collect`).

The instructor guide, ``docs/instructor.md``, walks through a term with these commands.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
