"""Similarity of the code students wrote: a report for staff that flags pairs to read.

:func:`similarity_report` compares a batch (:mod:`.extract` takes out the code each submission
wrote; :mod:`.report` compares it with copydetect and writes the report);
:mod:`.command` holds ``add_arguments`` and ``run`` for the command line. Nothing here reads or
changes a grade.
"""

from instructor.similarity.extract import Extracted, Starter, Task, extract
from instructor.similarity.report import Pair, SimilarityReport, similarity_report

__all__ = ["Extracted", "Pair", "SimilarityReport", "Starter", "Task", "extract",
           "similarity_report"]
