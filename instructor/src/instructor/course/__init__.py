"""Running a course's term: who is in it, when work is due, and where the grades go.

- :mod:`~instructor.course.roster`: the roster (our CSV or Canvas's gradebook export), and the
  matching of submissions to roster students (missing, unknown, two for one student);
- :mod:`~instructor.course.lateness`: each stage's due date, per-student extensions and the late
  policy (a percentage per day late with a cap, or a term's budget of late days);
- :mod:`~instructor.course.lms`: the gradebook as Canvas's and Moodle's grade imports read it.

Nothing here runs student code or grades anything: these modules read the staff's files and turn
raw scores into the rows a course's staff hands on.
"""
