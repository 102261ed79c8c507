"""One function per workflow, each returning a dataclass with ``to_dict()``: the page, the CLI and the benchmarks
call the same one, so a number shown in the app, printed by the CLI and measured in docs/benchmarks.md comes
from the same code.

- ``maps``: :func:`~vecexplore.reports.maps.map_report` (a 2-D/3-D map and how far to trust it).
- ``words``: analogies with their picture, free-form arithmetic, directions, analogy and word-similarity
  evaluation.
- ``transforms``: isotropy before/after a transform, and the transforms' effect on STS Spearman.
- ``searching``: one query's hits on a tagged collection, and retrieval quality over judged queries.
- ``models``: several models on the same texts, two side by side, a translation between spaces.
- ``domains``: domain shift of a corpus against a reference, per model, with a plain verdict.
- ``finetuning``: a fine-tuned model against its base on held-out pairs and a corpus, with a plain verdict.
"""
