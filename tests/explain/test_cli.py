"""`netwright explain`: a PNG and a JSON line per decision, files as inputs, one-line errors."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from netwright.cli import main


def _run(capsys, *argv):
    code = main(["explain", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_writes_the_png_and_prints_the_figures(dna_run, tmp_path, capsys):
    path, run_dir = dna_run
    png = tmp_path / "why.png"
    code, out, err = _run(capsys, path, "--run", run_dir, "--sample", 3, "--method", "integrated_gradients",
                          "--target", "motif", "-o", png, "--json")
    assert code == 0, err
    line = json.loads(out.strip().splitlines()[-1])
    assert line["method"] == "integrated_gradients" and line["kind"] == "dna"
    assert line["target_name"] == "motif" and 0 <= line["probability"] <= 1
    assert set(line["deletion"]) == {"fractions", "by_attribution", "random", "area", "random_area"}
    assert line["output"] == str(png)
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size[0] > 1000
    assert "deletion area" in err


def test_explain_reads_a_dna_text_file(dna_run, tmp_path, capsys):
    path, run_dir = dna_run
    text = tmp_path / "seq.fa"
    bases = "A" * 40 + "TGACGTCA" + "C" * 52
    text.write_text(">mine\n" + bases[:50] + "\n" + bases[50:] + "\n")
    code, out, err = _run(capsys, path, "--run", run_dir, "--input", text, "--method", "saliency",
                          "-o", tmp_path / "f.png", "--json")
    assert code == 0, err
    line = json.loads(out.strip().splitlines()[-1])
    assert line["sample"] is None and line["motif_span"] == [40, 48]
    assert line["predicted_name"] == "motif"


def test_explain_reads_a_picture(lenet_run, tmp_path, capsys):
    path, run_dir = lenet_run
    picture = tmp_path / "digit.png"
    Image.fromarray((np.eye(40) * 255).astype(np.uint8)).save(picture)
    code, out, err = _run(capsys, path, "--run", run_dir, "--input", picture, "--method", "occlusion",
                          "-o", tmp_path / "d.png", "--json")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["input_shape"] == [1, 16, 16]


def test_explain_errors_are_one_line_with_exit_codes(lenet_run, tmp_path, capsys):
    path, run_dir = lenet_run
    code, _, err = _run(capsys, path, "--run", tmp_path, "-o", tmp_path / "x.png")
    assert code == 1 and "no best.safetensors" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, path, "--run", run_dir, "--method", "gradcam", "--layer", "fc5",
                        "-o", tmp_path / "x.png")
    assert code == 1 and "not a convolution" in err
    code, _, err = _run(capsys, path, "--run", run_dir, "--input", tmp_path / "none.png", "-o", tmp_path / "x.png")
    assert code == 1 and "no such file" in err
    (tmp_path / "bad.json").write_text("{not json")
    code, _, err = _run(capsys, tmp_path / "bad.json", "--run", run_dir, "-o", tmp_path / "x.png")
    assert code == 2
    assert not (tmp_path / "x.png").exists()
