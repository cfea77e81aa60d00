"""A term of the course: the repository the students work in for several stages.

- :mod:`~instructor.term.answers`: the cookiecutter template's answers, checked and typed;
- :mod:`~instructor.term.bake`: building a term from them (the template's hooks only call it);
- :mod:`~instructor.term.repository`: ``open-stage`` and ``publish-key``, and the term
  repository and Classroom starters they write; :mod:`~instructor.term.staff`: the staff's
  folder (schedule, ``term.json`` with the due dates and late policy, answer keys).
- :mod:`~instructor.term.student_noxfile`, :mod:`~instructor.term.carry_forward`: files
  shipped to the students as they are (the noxfile of a release, and the script that carries a
  student's own earlier code into a new stage).
"""
