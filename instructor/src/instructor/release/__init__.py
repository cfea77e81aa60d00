"""What students get: the release of a stage, with its solutions cut out and leak-checked.

- :mod:`~instructor.release.release`: ``release``, rendering a stage and writing its student
  release (or its answer key) with its tests, guides, README and noxfile.
- :mod:`~instructor.release.readme`: the release's README and docs index; ``STAGE_ELEMENTS``,
  the one source of the stage tables.
- :mod:`~instructor.release.records`: what a release records for its tools (``tasks.json``,
  ``.release.json``).
- :mod:`~instructor.release.stubs`: the stubs of a release, read back from its files.
- :mod:`~instructor.release.markdown`: headings, fences, links and anchors of the docs; the links
  and images a release fits, and the maintainers' passages it leaves out.
- :mod:`~instructor.release.solutions`: what a release does with the solution regions besides
  stubbing them (the markers themselves are in :mod:`instructor.stages.markers`).
- :mod:`~instructor.release.leakcheck`: ``leak-check``, run over a student artifact, with
  :mod:`~instructor.release.answers` (solved stubs, solution text, code outside the markers),
  :mod:`~instructor.release.rules` (markers, instructor material, sessions, maintainers' words,
  broken links) and :mod:`~instructor.release.artifact` (its files and findings).
"""
