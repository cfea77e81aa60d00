"""``run.json``: digests of what was graded and of what graded it (``grading/record.py``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

from instructor.grading.record import (
    RECORD_FILE,
    changed_submissions,
    digest_of,
    read_record,
    repository_state,
    start_record,
    tree_digest,
)


def _tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_tree_digest_depends_on_paths_and_bytes_only(tmp_path):
    one = _tree(tmp_path / "one", {"a.py": "x = 1\n", "pkg/b.py": "y = 2\n"})
    two = _tree(tmp_path / "two", {"pkg/b.py": "y = 2\n", "a.py": "x = 1\n"})
    os.utime(two / "a.py", (0, 0))
    _tree(two, {"pkg/__pycache__/b.cpython-311.pyc": "compiled", ".git/HEAD": "ref"})
    assert tree_digest(one) == tree_digest(two)
    # Recomputed by hand: sha256 over "path\0sha256(bytes)\n" in sorted order.
    expected = hashlib.sha256()
    for name, text in sorted({"a.py": "x = 1\n", "pkg/b.py": "y = 2\n"}.items()):
        expected.update(f"{name}\0{hashlib.sha256(text.encode()).hexdigest()}\n".encode())
    assert tree_digest(one) == expected.hexdigest()
    (two / "a.py").write_text("x = 2\n", encoding="utf-8")
    assert tree_digest(one) != tree_digest(two)
    (two / "a.py").write_text("x = 1\n", encoding="utf-8")
    (two / "a2.py").write_text("", encoding="utf-8")
    assert tree_digest(one) != tree_digest(two)


def test_a_zip_is_identified_by_its_sha256(tmp_path):
    archive = tmp_path / "alice.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    assert digest_of(archive) == {"sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                   check=True, capture_output=True)


def test_repository_state_says_commit_and_clean(tmp_path):
    repo = _tree(tmp_path / "repo", {"noxfile.py": "# sessions\n"})
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "start")
    state = repository_state(repo)
    assert state["clean"] is True and len(state["commit"]) == 40
    (repo / "new.py").write_text("", encoding="utf-8")
    assert repository_state(repo)["clean"] is False
    assert repository_state(tmp_path / "not-a-repo") == {"commit": None, "clean": False}


def test_the_record_round_trips_and_names_what_changed(tmp_path):
    reference = _tree(tmp_path / "reference", {"src/mini_torch/functional.py": "def f(): ...\n"})
    weights = tmp_path / "weights.json"
    weights.write_text('{"*": 1}', encoding="utf-8")
    alice = _tree(tmp_path / "subs" / "alice", {"src/x.py": "a = 1\n"})
    bob = tmp_path / "subs" / "bob.zip"
    bob.write_bytes(b"zip bytes")
    record = start_record(root=None, stage=3, command=["grade", "--stage", "3"],
                          reference=reference, hidden=None, weights=weights, seed=42,
                          jail="isolated (uid, no cgroup)")
    record.add("alice", alice, 40.5, "graded")
    record.add("bob", bob, 0, "graded")
    record.ended = "2027-01-01T00:00:00+00:00"
    out = tmp_path / "out"
    out.mkdir()
    record.write(out)
    data = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    assert data["kit"] == {"reference": tree_digest(reference), "hidden": None,
                           "weights": hashlib.sha256(b'{"*": 1}').hexdigest(), "seed": 42}
    assert data["submissions"]["alice"]["score"] == 40.5
    assert data["command"] == ["grade", "--stage", "3"] and data["platform"]["python"]
    again = read_record(out)
    assert again == record
    assert changed_submissions(again, [("alice", alice), ("bob", bob)]) == []
    (alice / "src" / "x.py").write_text("a = 2\n", encoding="utf-8")
    assert changed_submissions(again, [("alice", alice), ("bob", bob),
                                       ("carol", bob)]) == ["alice", "carol"]


def test_grade_writes_its_record_and_the_similarity_report(tmp_path, run_cli):
    from .conftest import REAL_REPO

    subs = tmp_path / "subs"
    for name in ("alice", "bob"):
        shutil.copytree(REAL_REPO / "stages" / "stage1", subs / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "out"
    code, _, err = run_cli("grade", "--stage", "1", "--out", out, "--similarity",
                           subs / "alice", subs / "bob")
    assert code == 0, err
    data = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    assert data["stage"] == 1 and data["command"][3:5] == ["grade", "--stage"]
    assert data["kit"]["reference"] and data["kit"]["hidden"] and data["kit"]["weights"]
    assert set(data["submissions"]) == {"alice", "bob"}
    assert data["submissions"]["alice"]["tree-sha256"] == tree_digest(subs / "alice")
    assert data["submissions"]["alice"]["score"] == 90
    assert data["started"] <= data["ended"]
    assert changed_submissions(read_record(out), [("alice", subs / "alice")]) == []
    # Two identical copies: the similarity report flags the pair; the grades are untouched.
    rows = (out / "similarity.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith(("alice,bob,", "bob,alice,")) and rows[1].endswith(",yes"), rows
    assert "alice" in (out / "gradebook.csv").read_text(encoding="utf-8")
