"""Tests of the instructor tools.

This folder is a package on purpose: pytest (``--import-mode=importlib``, rootdir at the repository
root) then names these modules ``tests.*``. Without the ``__init__.py`` it would name them
``instructor.tests.*`` and bind ``instructor`` to this source folder, hiding the installed package.
"""
