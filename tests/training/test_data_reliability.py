"""Data files that broke `validate` or misled it (issue 13): each case as it was found."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import graph_core as gc
import templates
from netwright.cli import main
from tests.training.data_helpers import write_csv, write_fasta, write_idx
from training.datasets import DataError, load_raw


def _validate(tmp_path: Path, graph: gc.Graph, data: dict, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    graph.data = data
    path = tmp_path / "g.json"
    gc.save_graph(graph, path)
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def test_a_dataset_path_that_cannot_be_read_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked" / "data.csv"
    real_exists = Path.exists

    def exists(self: Path, *args: object, **kwargs: object) -> bool:
        if "locked" in self.parts:  # a folder this user may not enter (tests may run as root)
            raise PermissionError(13, "Permission denied", str(self))
        return real_exists(self, *args, **kwargs)

    monkeypatch.setattr(Path, "exists", exists)
    with pytest.raises(DataError, match="cannot read it \\(Permission denied\\)"):
        load_raw({"dataset": str(locked)})
    code, err = _validate(tmp_path, templates.build("mlp"), {"dataset": str(locked)}, capsys)
    assert code == 1
    assert "Traceback" not in err and "Permission denied" in err
    assert len([line for line in err.splitlines() if "Permission denied" in line]) == 1


def test_idx_files_with_no_samples_are_refused_not_offered_zero_classes(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    images = write_idx(tmp_path / "m" / "train-images-idx3-ubyte", np.zeros((0, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "m" / "train-labels-idx1-ubyte", np.zeros((0,), dtype=np.uint8))
    with pytest.raises(DataError, match="holds no samples"):
        load_raw({"dataset": str(images)})
    code, err = _validate(tmp_path, templates.build("lenet"), {"dataset": str(images)}, capsys)
    assert code == 1 and "holds no samples" in err
    assert "out_features to 0" not in err


@pytest.mark.parametrize("value", [None, 10**10, [3, 10**9]])
def test_an_image_size_option_that_is_null_or_huge(value: object, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzz suite: "image_size": null crashed validate (TypeError), and a size of
    10^10 was offered as a fix ("set image shape to 1, 10000000000, 10000000000")."""
    code, err = _validate(tmp_path, templates.build("dcgan"), {"dataset": "digits", "image_size": value}, capsys)
    assert "Traceback" not in err
    if value is None:
        assert code == 1 and "fix: resize digits to 16" in err  # null means the default, 8
    else:
        assert code == 1 and "at most 16384 a side" in err
        assert "10000000000" not in err.split("got")[0]


def test_one_word_in_a_numeric_csv_column_is_named_with_its_line(tmp_path: Path) -> None:
    rows = [[float(i), i * 0.5, i % 2] for i in range(60)]
    rows[17][1] = "abc"
    path = write_csv(tmp_path / "t.csv", ["a", "b", "y"], rows)
    with pytest.raises(DataError, match=r"line 19: column 'b' holds numbers but also 'abc'"):
        load_raw({"dataset": str(path)})


def test_a_real_text_column_is_still_one_hot(tmp_path: Path) -> None:
    rows = [[float(i), ["red", "blue", "green"][i % 3], i % 2] for i in range(30)]
    data = load_raw({"dataset": str(write_csv(tmp_path / "t.csv", ["a", "colour", "y"], rows))})
    assert data.info["features"].column_names == ["a", "colour=blue", "colour=green", "colour=red"]


def test_fasta_sequences_of_unequal_length_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = templates.build("dna_cnn", length=20)
    rng = np.random.default_rng(0)
    records = [(f"s{i} label={i % 2}", "".join(rng.choice(list("ACGT"), 20 - (i % 3)))) for i in range(12)]
    path = write_fasta(tmp_path / "dna.fa", records)
    code, err = _validate(tmp_path, graph, {"dataset": str(path)}, capsys)
    assert code == 1
    assert "sequences are 18 to 20 bases long" in err, err
    doc = json.loads((tmp_path / "g.json").read_text())
    assert doc["data"]["dataset"] == str(path)
