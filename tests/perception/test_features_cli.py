"""`plastix features`: inputs checked before anything is written; the file it writes."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from plastix.perception import small_config
from plastix.perception.folder_features import folder_features, load_features, parse_angles


@pytest.fixture
def folder(tmp_path):
    from plastix.perception import draw_shape

    root = tmp_path / "imgs"
    for k, kind in enumerate(("bar", "circle")):
        (root / kind).mkdir(parents=True)
        for i in range(2):
            img = draw_shape(kind, 40, (20 + i, 19), 16 + 2 * i, 30.0 * i)
            Image.fromarray((img * 255).astype(np.uint8)).save(root / kind / f"{i}.png")
    return root


def run_cli(monkeypatch, capsys, *args):
    from plastix import cli

    monkeypatch.setattr(sys, "argv", ["plastix", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "args,message",
    [
        (["features", "{folder}", "--out", "{tmp}/out.txt"], "--out: got"),
        (["features", "{tmp}/missing", "--out", "{tmp}/out.npz"], "image folder: got"),
        (["features", "{folder}", "--out", "{tmp}/out.npz", "--n-prototypes", "0"], "--n-prototypes: got 0"),
        (["features", "{folder}", "--out", "{tmp}/out.npz", "--orientation-order", "0,45,90,135"], "only together with --prototypes"),
        (["features", "{folder}", "--out", "{tmp}/out.npz", "--prototypes", "{tmp}/none.npz"], "prototypes file: got"),
        (["features", "{folder}", "--out", "{tmp}/out.npz", "--image-size", "-3"], "--image-size: got -3"),
        (["features", "{folder}", "--out", "{tmp}/out.npz", "--image-size", "32"], "S2 patch size: got 16"),
    ],
)
def test_bad_input_gives_one_line_and_writes_nothing(monkeypatch, capsys, tmp_path, folder, args, message):
    args = [a.format(folder=folder, tmp=tmp_path) for a in args]
    code, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "out.npz").exists() and not (tmp_path / "out.txt").exists()


def test_parse_angles():
    assert parse_angles("90, -45,0,45") == [90.0, -45.0, 0.0, 45.0]
    from plastix.errors import ConfigError

    with pytest.raises(ConfigError):
        parse_angles("ninety")


def test_folder_features_and_file_roundtrip(folder, tmp_path):
    import json

    from plastix.runs import save_arrays

    config = small_config()
    arrays, meta = folder_features(folder, image_size=32, prototypes_per_size=3, config=config, batch_size=4)
    assert arrays["c2"].shape == (4, 2, 3)
    assert list(arrays["labels"]) == [0, 0, 1, 1] and meta["class_names"] == ["bar", "circle"]
    save_arrays(tmp_path / "f.npz", dict(arrays, __meta__=np.asarray(json.dumps(meta))))
    back, meta_back = load_features(tmp_path / "f.npz")
    np.testing.assert_array_equal(back["c2"], arrays["c2"])
    assert {"prototypes_n2", "prototypes_n4", "source_bands_n2"} <= set(back)
    assert meta_back["orientations_deg"] == [0.0, 45.0, 90.0, 135.0]
    # the prototypes in the file can be reused: same features again
    from plastix.perception import load_prototypes

    protos = load_prototypes(tmp_path / "f.npz", config.s1_orientations_deg)
    again, _ = folder_features(folder, image_size=32, prototypes=protos, config=config, batch_size=4)
    np.testing.assert_allclose(again["c2"], arrays["c2"], atol=1e-6)


@pytest.mark.slow
def test_cli_end_to_end(monkeypatch, capsys, tmp_path, folder):
    code, err = run_cli(monkeypatch, capsys, "features", str(folder), "--out", str(tmp_path / "f.npz"),
                        "--image-size", "64", "--n-prototypes", "4")
    assert code == 0, err
    with np.load(tmp_path / "f.npz") as plain:  # readable without plastix
        assert plain["c2"].shape == (4, 4, 4) and plain["prototypes_n16"].shape == (4, 4, 16, 16)
    arrays, meta = load_features(tmp_path / "f.npz")
    assert meta["image_shape"] == [64, 64] and meta["class_names"] == ["bar", "circle"]
