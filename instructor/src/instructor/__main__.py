"""``python -m instructor``: the same command line as ``mini-torch-instructor``."""

from instructor.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
