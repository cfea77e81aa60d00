"""A jail's site-packages hold what the stages may use and nothing else: the allowed
distributions and what they require, read from the installed metadata."""

from __future__ import annotations

from pathlib import Path

from instructor.grading.jail import (
    absent_modules,
    allowed_entries,
    default_distributions,
    jail_absent_modules,
)


def _distribution(site: Path, name: str, files: list[str], requires: list[str] = ()) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"]
    metadata += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(metadata) + "\n")
    record = [*files, f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(f if "," in f else f"{f},," for f in record) + "\n")
    for file in files:
        path = site / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_only_the_allowed_distributions_and_their_requirements_stay(tmp_path):
    site = tmp_path / "site-packages"
    site.mkdir()
    _distribution(site, "numpy", ["numpy/__init__.py", "numpy.libs/libopenblas.so"])
    _distribution(site, "matplotlib", ["matplotlib/__init__.py", "pylab.py"],
                  ["cycler>=0.10", "Pillow>=8; python_version >= '3.8'",
                   "pytest; extra == 'dev'"])
    _distribution(site, "cycler", ["cycler/__init__.py"])
    _distribution(site, "pillow", ["PIL/__init__.py"])
    _distribution(site, "torch", ["torch/__init__.py", "functorch/__init__.py"], ["numpy"])
    _distribution(site, "pytest", ["pytest/__init__.py", "_pytest/__init__.py"])
    (site / "distutils-precedence.pth").write_text("import os\n")
    kept = allowed_entries(str(site))
    for entry in ("numpy", "numpy.libs", "numpy-1.0.dist-info", "matplotlib", "pylab.py",
                  "cycler", "PIL", "pillow-1.0.dist-info"):
        assert entry in kept, entry
    for entry in ("torch", "functorch", "torch-1.0.dist-info", "pytest", "_pytest",
                  "distutils-precedence.pth"):
        assert entry not in kept, entry  # required by nothing allowed, or only as an extra
    # a .pth file is hidden but is no module one could import
    assert set(absent_modules([str(site)])) == {"torch", "functorch", "pytest", "_pytest"}
    # a stage that lists other dependencies gets those in its jail, not the default ones
    only_cycler = allowed_entries(str(site), ("cycler",))
    assert "cycler" in only_cycler and "numpy" not in only_cycler


def test_the_real_grading_environment_keeps_the_stage_libraries_and_no_test_tool():
    absent = set(jail_absent_modules())
    assert {"torch", "tensorflow", "jax", "pytest", "_pytest", "instructor"} <= absent
    assert not absent & {"numpy", "scipy", "numexpr", "matplotlib"}
    assert "numpy" in default_distributions()
