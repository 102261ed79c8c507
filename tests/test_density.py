"""Density maps of many points: counts against numpy.histogram2d, windows, the sampled layer, the box reader, and
the whole large-corpus path on a 200,000-text stand-in for the million."""

import json

import numpy as np
import pandas as pd
import pytest

from pages.ui.density import box_range, sample_note
from vecexplore.errors import VecexploreError
from vecexplore.maps.density import density_image, full_window, in_window, sampled_layer
from vecexplore.maps.drawing import canvas, density_figure, density_map
from vecexplore.plotting import palette

WINDOW = ((-2.0, 3.0), (-1.5, 2.5))


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    xy = np.random.default_rng(0).normal(size=(20_000, 2))
    corners = [[-2.0, -1.5], [3.0, 2.5], [3.0, -1.5], [-2.0, 2.5]]  # on the window's bounds: counted, as numpy does
    return np.vstack([xy, corners])


def reference_counts(xy: np.ndarray, x_range, y_range, width: int, height: int) -> np.ndarray:
    """numpy's 2-D histogram in image orientation (row 0 = top)."""
    hist, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=[width, height], range=[x_range, y_range])
    return np.flipud(hist.T)


def test_counts_equal_numpy_histogram2d(points):
    image = density_image(points, *WINDOW, width=37, height=23)
    expected = reference_counts(points, *WINDOW, 37, 23)
    assert image.counts.shape == (23, 37) and image.rgba.shape == (23, 37, 4) and image.rgba.dtype == np.uint8
    np.testing.assert_array_equal(image.counts, expected)
    assert image.points_in_window == int(expected.sum()) == int(in_window(points, *WINDOW).sum())
    assert image.max_count == int(expected.max())
    assert image.png().startswith(b"\x89PNG")


def test_colour_follows_counts_and_empty_pixels_are_transparent(points):
    image = density_image(points, *WINDOW, width=37, height=23, how="linear")
    alpha = image.rgba[..., 3]
    assert (alpha[image.counts == 0] == 0).all() and (alpha[image.counts > 0] > 0).all()
    dense, sparse = np.unravel_index(image.counts.argmax(), image.counts.shape), np.argwhere(image.counts == 1)[0]
    assert image.rgba[dense][:3].sum() < image.rgba[tuple(sparse)][:3].sum()  # darker blue where denser


def test_whole_map_counts_every_point(points):
    x_range, y_range = full_window(points)
    assert x_range[0] < points[:, 0].min() and x_range[1] > points[:, 0].max()
    image = density_image(points, width=50, height=40)
    assert (image.x_range, image.y_range) == (x_range, y_range)
    assert image.points_in_window == len(points) == int(image.counts.sum())
    np.testing.assert_array_equal(image.counts, reference_counts(points, x_range, y_range, 50, 40))
    assert full_window(np.zeros((3, 2))) == ((-0.5, 0.5), (-0.5, 0.5))  # one place: a unit window around it


def test_groups_count_all_points_and_colour_pure_pixels(points):
    groups = np.where(points[:, 0] < 0.5, "left", "right")
    colours = ["#D62728", "rgb(31, 119, 180)"]
    image = density_image(points, *WINDOW, width=40, height=20, groups=groups.tolist(), colours=colours)
    np.testing.assert_array_equal(image.counts, reference_counts(points, *WINDOW, 40, 20))
    left = image.counts.copy()
    left[:, 20:] = 0  # x < 0.5 is the left half of (-2, 3) × 40 pixels: columns 0-19
    row, col = np.unravel_index(left.argmax(), left.shape)
    assert tuple(image.rgba[row, col, :3]) == (0xD6, 0x27, 0x28)
    row, col = np.unravel_index(image.counts[:, 21:].argmax(), image.counts[:, 21:].shape)
    assert tuple(image.rgba[row, col + 21, :3]) == (31, 119, 180)
    categorical = density_image(points, *WINDOW, width=40, height=20, groups=pd.Categorical(groups), colours=colours)
    np.testing.assert_array_equal(categorical.rgba, image.rgba)


def test_zoomed_window_renders_its_points_at_full_resolution(points):
    whole = density_image(points, width=100, height=100)
    zoom = ((0.0, 0.5), (0.0, 0.5))
    image = density_image(points, *zoom, width=100, height=100)
    inside = in_window(points, *zoom)
    assert image.points_in_window == int(inside.sum()) < whole.points_in_window
    np.testing.assert_array_equal(image.counts, reference_counts(points[inside], *zoom, 100, 100))


def test_sampled_layer_holds_rows_of_the_window(points):
    inside = np.flatnonzero(in_window(points, *WINDOW))
    shown = sampled_layer(points, *WINDOW, limit=500, seed=3)
    assert len(shown) == 500 and len(set(shown)) == 500 and np.isin(shown, inside).all()
    np.testing.assert_array_equal(shown, sampled_layer(points, *WINDOW, limit=500, seed=3))  # seeded
    assert not np.array_equal(shown, sampled_layer(points, *WINDOW, limit=500, seed=4))
    np.testing.assert_array_equal(sampled_layer(points, *WINDOW, limit=len(points)), inside)  # few: all of them


def test_figure_points_map_back_to_their_rows(points):
    texts = [f"text {i}" for i in range(len(points))]
    groups = ["a" if i % 3 else "b" for i in range(len(points))]
    image = density_image(points, *WINDOW, width=60, height=40)
    shown = sampled_layer(points, *WINDOW, limit=300)
    fig = density_figure(image, points, texts, shown, groups, focus=int(shown[0]), rings={"neighbours": shown[1:4]})
    rows = []
    for trace in fig.data:
        idx = np.asarray(trace.customdata)[:, 0].astype(int)
        np.testing.assert_allclose(np.c_[trace.x, trace.y], points[idx])
        assert list(trace.hovertext) == texts_at(texts, idx)
        if trace.name in ("a", "b"):
            assert {groups[i] for i in idx} == {trace.name}
            rows.extend(idx)
    assert sorted(rows) == sorted(shown)
    assert [t.name for t in fig.data] == ["a", "b", "neighbours", "selected"]
    layout = fig.layout
    assert layout.images[0].source.startswith("data:image/png;base64,")
    assert (layout.images[0].x, layout.images[0].y) == (WINDOW[0][0], WINDOW[1][1])
    assert (layout.images[0].sizex, layout.images[0].sizey) == (5.0, 4.0)
    assert tuple(layout.xaxis.range) == WINDOW[0] and tuple(layout.yaxis.range) == WINDOW[1]
    assert layout.dragmode == "select"


def texts_at(texts: list[str], idx: np.ndarray) -> list[str]:
    return [texts[i] for i in idx]


def test_box_range_reads_the_selection_state():
    box = {"selection": {"points": [], "point_indices": [], "lasso": [],
                         "box": [{"xref": "x", "yref": "y", "x": [0.0, 1.0], "y": [5.0, 6.0]},
                                 {"xref": "x", "yref": "y", "x": [3.5, -1.25], "y": [2.0, -0.5]}]}}
    assert box_range(box) == ((-1.25, 3.5), (-0.5, 2.0))  # the last box, bounds in increasing order
    empty = {"selection": {"points": [], "point_indices": [], "box": [], "lasso": []}}
    for state in (None, {}, empty, {"selection": {"box": [{"x": [1.0, 1.0], "y": [0.0, 2.0]}]}},
                  {"selection": {"box": [{"x": [], "y": []}]}}):
        assert box_range(state) is None


def test_canvas_keeps_pixels_square():
    assert canvas((0.0, 10.0), (0.0, 5.0)) == (1000, 500)
    assert canvas((0.0, 1.0), (0.0, 4.0)) == (155, 620)
    width, height = canvas((-3.2, 7.7), (1.0, 8.3))
    assert abs(width / height - 10.9 / 7.3) < 0.01


def test_sample_note_says_what_is_drawn(points):
    image = density_image(points, *WINDOW, width=60, height=40)
    shown = sampled_layer(points, *WINDOW, limit=300)
    note = sample_note(image, shown, len(points))
    assert f"all {len(points):,} texts" in note and f"{image.points_in_window:,} of them in this window" in note
    assert "300 of them (a seeded sample)" in note


@pytest.mark.parametrize(("call", "message"), [
    (lambda xy: density_image(xy, how="sqrt"), "Unknown density scale"),
    (lambda xy: density_image(np.c_[xy, xy[:, 0]]), "2-D coordinates"),
    (lambda xy: density_image(xy, (1.0, 0.0), (0.0, 1.0)), "low < high"),
    (lambda xy: density_image(xy, width=0), "between 1 and"),
    (lambda xy: density_image(xy, groups=["a"] * 3, colours=["#000"]), "one group per point"),
    (lambda xy: density_image(xy, groups=["a", "b"] * (len(xy) // 2), colours=["#000"]), "one colour per group"),
    (lambda xy: density_image(xy, groups=["a"] * len(xy), colours=["not a colour"]), "is not a colour"),
    (lambda xy: sampled_layer(xy, *WINDOW, limit=0), "at least one point"),
])
def test_bad_input_is_refused_with_a_message(points, call, message):
    with pytest.raises(VecexploreError, match=message):
        call(points[:1000])


@pytest.mark.slow
def test_large_corpus_path_on_200k_texts(glove, topics, tmp_path):
    """The million-text path (bench/million.py) on a 200,000-text stand-in: embed through the cache, PCA map of
    every text, density + sampled layer + figure, a zoomed window, neighbours over every text."""
    from vecexplore.cache import EmbeddingCache, embed
    from vecexplore.maps.neighbors import point_neighbors
    from vecexplore.maps.projection import ProjectionCache, Projector
    from vecexplore.numeric import l2_normalize

    n = 200_000
    texts = [f"{topics.texts[i % len(topics)]} ({i})" for i in range(n)]
    labels = [topics.labels[i % len(topics)] for i in range(n)]
    eset, stats = embed(texts, glove, labels=labels, cache=EmbeddingCache(tmp_path / "cache.sqlite"))
    assert stats.encoded == n and eset.vectors.shape == (n, 50)
    proj, _ = ProjectionCache(tmp_path / "maps").fit(eset.vectors, Projector("pca"))
    coords = proj.embedding_
    assert coords.shape == (n, 2) and proj.method_ == "pca"

    whole = density_map(coords, None, eset.texts, labels)  # what the page and bench/million.py draw
    image, shown = whole.image, whole.shown
    assert image.points_in_window == n and (image.x_range, image.y_range) == full_window(coords)
    assert (image.width, image.height) == canvas(*full_window(coords))
    colours = [palette(i) for i in range(len(pd.Categorical(labels).categories))]
    expected = density_image(coords, *full_window(coords), *canvas(*full_window(coords)),
                             groups=pd.Categorical(labels), colours=colours)
    np.testing.assert_array_equal(image.rgba, expected.rgba)  # coloured like the points, label by label
    np.testing.assert_array_equal(shown, sampled_layer(coords, image.x_range, image.y_range))
    drawn = np.concatenate([np.asarray(trace.customdata)[:, 0] for trace in whole.figure.data])
    assert sorted(drawn) == shown.tolist() and len(drawn) == 10_000
    assert json.loads(whole.figure.to_json())["layout"]["images"][0]["source"].startswith("data:image/png;base64,")

    window = tuple((float(np.quantile(c, 0.3)), float(np.quantile(c, 0.7))) for c in coords.T)
    zoom = density_map(coords, window, eset.texts, labels)
    inside = in_window(coords, *window)
    assert zoom.image.points_in_window == int(inside.sum()) and 0 < zoom.image.points_in_window < n
    assert np.isin(zoom.shown, np.flatnonzero(inside)).all()

    idx, sims = point_neighbors(eset.vectors, 123_456, 5)
    unit = l2_normalize(eset.vectors)
    scores = unit @ unit[123_456]
    scores[123_456] = -np.inf
    np.testing.assert_allclose(sims, np.sort(scores)[::-1][:5], atol=1e-3)


def test_warm_density_compiles_both_aggregations_on_tiny_data():
    from vecexplore.warmup import warm_density

    assert warm_density(n=200) >= 0.0
    image = density_image(np.array([[0.0, 0.0], [1.0, 1.0]]), width=8, height=8)
    assert image.counts.sum() == 2


def test_density_view_keeps_the_maps_colour_by_value_filter_names_and_typed_text(points):
    """The density view is the same map as the plain one (``figure``): faithfulness colours, greyed filtered-out
    texts, cluster names and the typed text's diamond all reach it, its points drawn light."""
    texts = [f"text {i}" for i in range(len(points))]
    image = density_image(points, *WINDOW, width=60, height=40)
    shown = sampled_layer(points, *WINDOW, limit=300)
    kept = np.random.default_rng(0).random(len(points))
    keep = np.arange(len(points)) % 2 == 0
    fig = density_figure(image, points, texts, shown, query=("my text", np.array([[1.0, 1.0]])),
                         values=("k-NN kept", kept), keep=keep, names={"cluster one": np.array([0.5, 0.5])})
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == ["filtered out", "k-NN kept", "your text"]
    coloured = np.asarray(by_name["k-NN kept"].customdata)[:, 0].astype(int)
    assert sorted(coloured) == sorted(shown[keep[shown]])
    np.testing.assert_allclose(by_name["k-NN kept"].marker.color, kept[coloured])
    assert (by_name["k-NN kept"].marker.size, by_name["k-NN kept"].marker.opacity) == (4, 0.45)
    greyed = np.asarray(by_name["filtered out"].customdata)[:, 0].astype(int)
    assert sorted(greyed) == sorted(shown[~keep[shown]])
    assert [a.text for a in fig.layout.annotations] == ["cluster one"]


def test_density_map_is_the_density_image_the_sample_and_the_figure_of_the_window(points):
    """``density_map`` (the one draw the page and the benchmarks call): the image at canvas size coloured by group
    in the points' palette, the seeded layer of the window, and ``density_figure`` of them with the map's marks."""
    from vecexplore.maps.clusters import NOISE, NOISE_NAME
    from vecexplore.maps.drawing import name_marks

    texts = [f"text {i}" for i in range(len(points))]
    groups = ["a" if i % 3 else "b" for i in range(len(points))]
    labels = np.where(points[:, 0] < 0, 0, 1)
    labels[:50] = NOISE
    names = name_marks(points, labels, {0: "left", 1: "right", NOISE: NOISE_NAME})
    assert list(names) == ["left", "right"]  # noise is not named
    drawn = density_map(points, WINDOW, texts, groups, focus=3, names=names, limit=500)
    image = density_image(points, *WINDOW, *canvas(*WINDOW), groups=pd.Categorical(groups),
                          colours=[palette(0), palette(1)])
    shown = sampled_layer(points, *WINDOW, limit=500)
    np.testing.assert_array_equal(drawn.image.rgba, image.rgba)
    np.testing.assert_array_equal(drawn.shown, shown)
    assert drawn.density_s > 0
    assert drawn.figure.to_json() == density_figure(image, points, texts, shown, groups, 3, names=names).to_json()
    whole = density_map(points, None, texts)  # no window: the whole map, one colour scale
    assert (whole.image.x_range, whole.image.y_range) == full_window(points)
    assert whole.image.points_in_window == len(points) and [t.name for t in whole.figure.data] == ["all"]
