"""Carry your own code of the earlier stages into stage K, in place of the reference copy.

    python carry_forward.py 2              # or: nox -s carry_forward -- 2
    python carry_forward.py 3 --from ../my-stage2-repo   # another checkout (one repo per stage)
    python carry_forward.py 2 --dry-run    # say what would be copied, copy nothing

When stage K opens, its folder holds the earlier stages' files solved (the reference). This
script replaces each of them with your own version: for a file of ``src/mini_torch`` that stage
K carries from an earlier stage, it takes the newest copy you changed in an earlier stage (the
stage that asked you to write it, or a later one you already carried it into).

It never overwrites stage K's own work: a carried file you already changed in stage K is left
alone (``--force`` replaces it), and the files stage K adds are never touched. It prints every
copy it makes and every file it leaves alone, with the reason. Each stage folder's
``.release.json`` (written when the stage was released) records what the release held, which is
how the script tells your changes from the reference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MANIFEST = ".release.json"
PACKAGE = Path("src") / "mini_torch"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stage_folders(base: Path) -> dict[int, Path]:
    """``{J: base/stages/stageJ}`` for every stage folder under ``base`` (or ``base`` itself)."""
    found = {}
    for folder in sorted((base / "stages").glob("stage[0-9]*")):
        if (folder / PACKAGE).is_dir():
            found[int(folder.name.removeprefix("stage"))] = folder
    if not found and (base / PACKAGE).is_dir() and (base / MANIFEST).is_file():
        stage = int(json.loads((base / MANIFEST).read_text(encoding="utf-8"))["stage"])
        found[stage] = base
    return found


def manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        return {"files": {}, "tasks": []}
    return json.loads(path.read_text(encoding="utf-8"))


def your_copy(relative: str, stage: int, sources: dict[int, Path]) -> tuple[Path | None, str]:
    """The newest earlier copy of ``relative`` that you changed, or None and why not."""
    for earlier in sorted((j for j in sources if j < stage), reverse=True):
        folder = sources[earlier]
        path = folder / PACKAGE / relative
        if not path.is_file():
            continue
        released = manifest(folder)
        if released["files"].get(relative) not in (None, digest(path)):
            return path, ""
        if relative in released.get("tasks", []):
            return None, f"your stage {earlier} copy is still the release's (not written yet)"
    return None, ""  # given code you never changed, or a file this stage adds: nothing to do


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", type=int, help="the stage to carry your code into")
    parser.add_argument("--from", dest="source", type=Path, metavar="DIR",
                        help="also take earlier stages from this checkout (one repo per stage)")
    parser.add_argument("--force", action="store_true",
                        help="also replace carried files you already changed in stage K")
    parser.add_argument("--dry-run", action="store_true", help="copy nothing, say what would be")
    args = parser.parse_args(argv)

    here = stage_folders(ROOT)
    if args.stage not in here:
        known = ", ".join(str(s) for s in sorted(here)) or "none"
        print(f"error: no stages/stage{args.stage} here (stages: {known})", file=sys.stderr)
        return 2
    sources = dict(here)
    if args.source is not None:
        other = stage_folders(args.source.resolve())
        if not other:
            print(f"error: {args.source} holds no stage folder", file=sys.stderr)
            return 2
        for stage, folder in other.items():
            sources.setdefault(stage, folder)
    target = here[args.stage]
    released = manifest(target)
    if not released["files"]:
        print(f"error: {target / MANIFEST} is missing: cannot tell your changes from the "
              "release's files", file=sys.stderr)
        return 2
    copied = kept = 0
    for relative in sorted(released["files"]):
        if Path(relative).name == "__init__.py" or relative in released.get("tasks", []):
            continue  # re-export files differ per stage; stage K's own tasks are yours to write
        destination = target / PACKAGE / relative
        source, reason = your_copy(relative, args.stage, sources)
        shown = destination.relative_to(ROOT) if destination.is_relative_to(ROOT) else destination
        if source is None:
            if reason:
                print(f"kept    {shown}: {reason}")
                kept += 1
            continue
        if destination.is_file() and digest(destination) == digest(source):
            print(f"same    {shown}: already your version")
            continue
        if (destination.is_file() and digest(destination) != released["files"][relative]
                and not args.force):
            print(f"refused {shown}: you changed it in stage {args.stage}; --force replaces it "
                  f"with {source}")
            kept += 1
            continue
        print(f"copied  {source} -> {shown}")
        if not args.dry_run:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        copied += 1
    verb = "would copy" if args.dry_run else "copied"
    print(f"stage {args.stage}: {verb} {copied} file(s) of yours, left {kept} as they are")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
