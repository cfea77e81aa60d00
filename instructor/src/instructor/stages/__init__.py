"""The staged releases of the monorepo (``stages/stageN``) as the tools see them.

- :mod:`~instructor.stages.repo`: finding the repository, its stages and their package folders;
  :class:`~instructor.stages.repo.InstructorError`, the error every command reports.
- :mod:`~instructor.stages.consistency`: ``check``, files and public names carried unchanged.
- :mod:`~instructor.stages.carry`: ``carry``, copying a stage's file into the later stages.
- :mod:`~instructor.stages.introspect`: the script that prints one stage's public API.
- :mod:`~instructor.stages.dependencies`: a stage's runtime dependencies, read from its
  ``pyproject.toml`` (the one list the autograder, the jail and the grader use).
- :mod:`~instructor.stages.markers`: the solution markers of the reference stages, the regions
  they enclose and the stubs they become (read by releases, grading and the similarity report).
- :mod:`~instructor.stages.guides`: which section of a stage's guide teaches a stub.
"""

from instructor.stages.dependencies import distribution_names, import_names, runtime_dependencies

__all__ = ["distribution_names", "import_names", "runtime_dependencies"]
