"""vecexplore/paths.py: the one path-containment rule of the model box and of the collections the app opens."""

from vecexplore import paths


def test_a_path_is_contained_only_where_it_really_leads(tmp_path):
    root, outside = tmp_path / "data", tmp_path / "elsewhere"
    (root / "inner").mkdir(parents=True)
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    roots = paths.resolved_dirs([root, root, tmp_path / "data" / "."])
    assert roots == [root.resolve()]
    assert paths.contained(str(root / "inner"), roots) == (root / "inner").resolve()
    assert paths.contained(str(root), roots) == root.resolve()
    assert paths.contained(str(root / "link"), roots) is None  # a symlink leading out of the root
    assert paths.contained(str(root / "inner" / ".." / ".." / "elsewhere"), roots) is None  # '..' refused
    assert paths.contained("data/inner", roots) is None and paths.contained("~/data", roots) is None
    assert paths.contained(str(root / "a\x00b"), roots) is None  # cannot be resolved
    assert not paths.within(None, roots) and not paths.within(outside.resolve(), roots)
