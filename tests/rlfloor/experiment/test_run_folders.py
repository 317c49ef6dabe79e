"""Run folders: names injective over env/agent names, and chosen by content key so that no run is overwritten."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from rlfloor.experiment import RunSpec
from rlfloor.experiment.cli import RUN_KEY_FILE, choose_run_dir, folder_key, is_finished
from rlfloor.experiment.store import settings_key

ROOT = Path(__file__).resolve().parents[3]


def run_id(env: str, agent: str, seed: int = 0) -> str:
    return RunSpec(env, agent, seed, 1).run_id


def test_ascii_names_keep_their_folder_names() -> None:
    """Existing sweeps resume in place: every published run's folder is still ``{env}__{agent}__s{seed}``."""
    rows = [row for path in sorted(ROOT.glob("published/*/results.csv")) for row in csv.DictReader(path.open())]
    assert len(rows) > 100
    for row in rows:
        assert run_id(row["env"], row["agent"], int(row["seed"])) == f"{row['env']}__{row['agent']}__s{row['seed']}"
    # ASCII names with path-unsafe characters keep the folder they always had, too
    assert run_id("minigrid:MiniGrid-Empty-5x5-v0", "ppo") == "minigrid-MiniGrid-Empty-5x5-v0__ppo__s0"
    assert run_id("ALE/Pong-v5", "my preset", 3) == "ALE-Pong-v5__my-preset__s3"


def test_names_differing_only_in_non_ascii_characters_get_distinct_folders() -> None:
    names = ["ppo-ü", "ppo-é", "ppo-éé", "ppo-\u00e9\u0301", "ppo--", "ppo-", "ppo-\ud800"]
    ids = {name: run_id("deepsea-6", name) for name in names}
    assert len(set(ids.values())) == len(names), ids
    for name, folder in ids.items():
        assert re.fullmatch(r"[A-Za-z0-9_.+@-]+", folder), folder  # path-safe
        assert ("@" in folder) == (not name.isascii())  # '@' marks the hashed names, never an ASCII one
    assert run_id("déepsea", "ppo") != run_id("dèepsea", "ppo")


def finished(path: Path, settings: dict[str, object]) -> None:
    path.mkdir(parents=True)
    (path / "result.json").write_text(json.dumps({"spec": {}, "settings": settings, "final_score": 0.5}))


def test_a_run_of_other_settings_never_gets_a_taken_folder(tmp_path: Path) -> None:
    first, second = {"run": {"timesteps": 256}}, {"run": {"timesteps": 512}}
    key1, key2 = settings_key(first), settings_key(second)
    base = tmp_path / "deepsea-6__ppo__s0"
    assert choose_run_dir(tmp_path, base.name, key1) == base  # absent: the plain name
    base.mkdir()
    (base / ".lock").touch()
    assert choose_run_dir(tmp_path, base.name, key1) == base  # empty but for a lock
    (base / ".lock").unlink()
    base.rmdir()
    finished(base, first)
    assert folder_key(base) == key1 and is_finished(base, key1) and not is_finished(base, key2)
    assert choose_run_dir(tmp_path, base.name, key1) == base  # the same run: reused
    keyed = choose_run_dir(tmp_path, base.name, key2)
    assert keyed == tmp_path / f"{base.name}__{key2[:8]}"  # other settings: a folder of their own
    keyed.mkdir()
    (keyed / RUN_KEY_FILE).write_text(key2 + "\n")  # started, not finished (interrupted)
    assert folder_key(keyed) == key2 and not is_finished(keyed, key2)
    assert choose_run_dir(tmp_path, base.name, key2) == keyed  # trained again in its own folder
    third = settings_key({"run": {"timesteps": 768}})
    extra = tmp_path / f"{base.name}__{third[:8]}"
    extra.mkdir()
    (extra / "notes.txt").write_text("a user's file")  # a folder the key does not account for is never taken
    with pytest.raises(ValueError, match=r"hold runs of other settings; train into another --out"):
        choose_run_dir(tmp_path, base.name, third)


def test_a_foreign_or_corrupt_folder_is_kept(tmp_path: Path) -> None:
    base = tmp_path / "x__a__s0"
    base.mkdir()
    (base / "result.json").write_text("{truncated")
    assert folder_key(base) is None and not is_finished(base, "0" * 16)
    assert choose_run_dir(tmp_path, base.name, "0123456789abcdef") == tmp_path / "x__a__s0__01234567"
    (base / RUN_KEY_FILE).write_text("0123456789abcdef\n")  # its own interrupted run, then a corrupt result
    assert choose_run_dir(tmp_path, base.name, "0123456789abcdef") == base
    (tmp_path / "file__a__s0").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        choose_run_dir(tmp_path, "file__a__s0", "0123456789abcdef")
