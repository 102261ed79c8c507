"""The CLI's JSON keys, command by command, as they were before the analysis layer was introduced (issue 15):
a key may be added, never renamed or removed."""

import contextlib
import io
import json
from importlib import resources

import pytest

from vecexplore.cli import main
from vecexplore.encoders import finetuned

EXPECTED = {
    'models': {
        'models', 'models[].description', 'models[].dims', 'models[].id',
    },
    'embed': {
        'backend', 'cache_hits', 'dims', 'encoded', 'fidelity', 'model', 'n', 'n_texts_without_known_words',
        'n_tokens', 'notes', 'oov_share', 'output', 'seconds', 'top_unknown', 'version',
    },
    'project': {
        'cache_hits', 'dims', 'embed_seconds', 'knn_kept', 'method', 'model', 'n', 'n_components', 'notes', 'output',
        'quality_k', 'seconds', 'trustworthiness', 'version',
    },
    'project-faithfulness': {
        'cache_hits', 'dims', 'embed_seconds', 'faithfulness', 'faithfulness.k', 'faithfulness.mean',
        'faithfulness.notes', 'faithfulness.scored', 'faithfulness.share_below_half', 'faithfulness.worst', 'knn_kept',
        'method', 'model', 'n', 'n_components', 'notes', 'output', 'quality_k', 'seconds', 'trustworthiness', 'version',
    },
    'clusters': {
        'cache_hits', 'clusters', 'clusters[].central_texts', 'clusters[].id', 'clusters[].majority_label',
        'clusters[].name', 'clusters[].purity', 'clusters[].size', 'clusters[].top_words', 'embed_seconds',
        'granularity', 'k', 'k_scores', 'method', 'min_cluster_size', 'model', 'n', 'n_clusters', 'notes',
        'overall_purity', 'seconds', 'version', 'word_level',
    },
    'analogy': {
        'method', 'model', 'query', 'results', 'results[].score', 'results[].word', 'vocabulary',
    },
    'analogy-eval': {
        'method', 'model', 'n_answered', 'n_malformed', 'n_questions', 'n_skipped', 'overall', 'seconds', 'sections',
        'vocabulary',
    },
    'word-sim': {
        'coverage', 'model', 'n_covered', 'n_pairs', 'pearson', 'spearman', 'vocabulary',
    },
    'isotropy': {
        'dims', 'effective_rank', 'isoscore', 'mean_cosine', 'mean_cosine_all_pairs', 'mean_cosine_ci', 'model', 'n',
        'norm_mean', 'norm_std', 'partition_isotropy', 'top_k', 'top_pc_share', 'top_rogue_dims', 'top_rogue_share',
        'transform', 'version',
    },
    'isotropy-whiten': {
        'before', 'before.dims', 'before.effective_rank', 'before.isoscore', 'before.mean_cosine',
        'before.mean_cosine_all_pairs', 'before.mean_cosine_ci', 'before.n', 'before.norm_mean', 'before.norm_std',
        'before.partition_isotropy', 'before.top_k', 'before.top_pc_share', 'before.top_rogue_dims',
        'before.top_rogue_share', 'dims', 'effective_rank', 'isoscore', 'mean_cosine', 'mean_cosine_all_pairs',
        'mean_cosine_ci', 'model', 'n', 'norm_mean', 'norm_std', 'notes', 'partition_isotropy', 'top_k',
        'top_pc_share', 'top_rogue_dims', 'top_rogue_share', 'transform', 'version',
    },
    'sts': {
        'fitted_on', 'model', 'n', 'n_bad_rows', 'n_out_of_range', 'notes', 'pearson', 'spearman', 'transform',
        'version',
    },
    'index': {
        'cache_hits', 'collection', 'created', 'embed_seconds', 'n', 'points', 'search', 'seconds', 'tag',
        'tag.bm25', 'tag.bm25.avg_len', 'tag.bm25.b', 'tag.bm25.k', 'tag.bm25.language', 'tag.created', 'tag.dims',
        'tag.distance', 'tag.hnsw_recall', 'tag.model_id', 'tag.model_version', 'tag.owner', 'tag.shared',
        'tag.transform', 'unique_texts',
    },
    'search': {
        'collection', 'exact', 'filters', 'hits', 'hits[].id', 'hits[].payload', 'hits[].score', 'hits[].text',
        'hybrid', 'model',
    },
    'open-collection': {
        'collection', 'dims', 'fields', 'label_field', 'model', 'n', 'notes', 'output', 'points', 'tag',
        'tag.dims', 'tag.distance', 'tag.model_id', 'tag.model_version', 'tag.transform', 'text_field', 'vector',
        'version', 'where',
    },
    'compress': {
        'dims', 'k', 'n', 'n_queries', 'oversampling', 'rows', 'rows[].bytes_per_vector', 'rows[].method',
        'rows[].query_p50_ms', 'rows[].recall', 'rows[].rescoring',
    },
    'retrieval-eval': {
        'collection', 'hard_negatives', 'hybrid', 'k', 'mean', 'mean.mrr', 'mean.ndcg', 'mean.recall', 'model',
        'n_queries', 'notes', 'per_query',
    },
    'compare': {
        'models', 'models.*.bytes_per_vector', 'models.*.dims', 'models.*.knn_label_accuracy',
        'models.*.probe_accuracy', 'models.*.sent_per_s', 'models.*.silhouette', 'n', 'notes', 'pairs', 'pairs[].a',
        'pairs[].b', 'pairs[].cka', 'pairs[].k', 'pairs[].knn_jaccard_mean', 'pairs[].rsa_points',
        'pairs[].rsa_spearman',
    },
    'translate': {
        'from', 'mean_cosine', 'method', 'n_test', 'n_train', 'notes', 'to', 'top1', 'top10',
    },
    'finetune': {
        'anisotropy', 'base', 'data_hash', 'knn_jaccard_mean', 'knn_k', 'metrics', 'model', 'most_changed',
        'n_candidates', 'n_corpus', 'n_held_out', 'notes', 'outcome', 'path', 'training', 'training.final_loss',
        'training.loss', 'training.n_train', 'training.notes', 'training.seconds', 'training.settings',
        'training.settings.batch_size', 'training.settings.epochs', 'training.settings.hard_negatives',
        'training.settings.learning_rate', 'training.settings.matryoshka', 'training.settings.seed', 'training.steps',
        'training.threads', 'verdict', 'version',
    },
    'quality': {
        'duplicates', 'explained', 'k', 'label_issues', 'leakage', 'leakage.n_other', 'leakage.pairs',
        'leakage.share', 'mixed_classes', 'model', 'n', 'n_duplicate_groups', 'n_exact_duplicates', 'n_label_issues',
        'notes', 'outliers', 'rows_kept', 'rows_read', 'rows_skipped', 'against_rows_read', 'against_rows_skipped',
        'against_rows_kept', 'threshold', 'outliers[].index', 'outliers[].score', 'label_issues[].index',
        'label_issues[].given', 'label_issues[].suggested', 'label_issues[].score',
    },
    'shift': {
        'a', 'b', 'models', 'models.*.c2st_auc', 'models.*.c2st_p_value', 'models.*.centroid_cosine_distance',
        'models.*.knn_mixing', 'models.*.knn_mixing_expected', 'models.*.mmd2', 'models.*.mmd_p_value',
        'models.*.n_a', 'models.*.n_b', 'models.*.notes', 'models.*.p_value_resolution', 'models.*.seconds', 'notes',
    },
}


def _keys(value: dict, prefix: str = "") -> set[str]:
    found = set()
    for key, item in value.items():
        found.add(prefix + key)
        if isinstance(item, dict) and key not in {"models", "per_query", "hard_negatives", "sections", "payload"}:
            found |= _keys(item, prefix + key + ".")
    return found


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    """Every command run once on small inputs."""
    d = tmp_path_factory.mktemp("keys")
    topics = str(resources.files("vecexplore.data").joinpath("demo_topics.csv"))
    (d / "q.txt").write_text(": capitals\nfrance paris italy rome\n")
    (d / "p.csv").write_text("w1,w2,score\ncat,dog,7\ncar,banana,0.5\nhappy,glad,9\nold,new,1\n")
    (d / "pairs.csv").write_text("".join(f'"the {a} sat here","a {b} sat there",{s}\n' for a, b, s in [
        ("cat", "cat", 4.8), ("dog", "car", 1.0), ("man", "woman", 3.1), ("bird", "plane", 1.5)]))
    (d / "docs.jsonl").write_text("".join(json.dumps({"text": t, "doc_id": f"d{i}"}) + "\n" for i, t in enumerate(
        ["The goalkeeper saved a penalty.", "Knead the dough.", "Rates rose again.", "The probe reached orbit."])))
    (d / "qq.jsonl").write_text('{"_id": "q1", "text": "goalkeeper"}\n')
    (d / "qrels.tsv").write_text("q1\td0\t1\n")
    (d / "a.txt").write_text("\n".join(f"sport line {i} goal" for i in range(20)))
    (d / "b.txt").write_text("\n".join(f"money line {i} bank" for i in range(20)))
    store = ["--collection", "c", "--qdrant-path", str(d / "qd")]
    cmds = {
        "models": ["models"],
        "embed": ["embed", topics, "--model", "glove-6B-50d", "-o", str(d / "e.parquet")],
        "project": ["project", str(d / "e.parquet"), "--method", "pca"],
        "project-faithfulness": ["project", str(d / "e.parquet"), "--method", "pca", "--faithfulness", "-o",
                                 str(d / "p.parquet")],
        "clusters": ["clusters", topics, "--model", "glove-6B-50d", "--label-col", "label", "--k", "5"],
        "analogy": ["analogy", "man", "king", "woman"],
        "analogy-eval": ["analogy-eval", str(d / "q.txt")],
        "word-sim": ["word-sim", str(d / "p.csv")],
        "isotropy": ["isotropy", topics, "--model", "glove-6B-50d"],
        "isotropy-whiten": ["isotropy", topics, "--model", "glove-6B-50d", "--transform", "whiten", "--k", "16"],
        "sts": ["sts", str(d / "pairs.csv"), "--model", "glove-6B-50d"],
        "index": ["index", str(d / "docs.jsonl"), "--model", "glove-6B-50d", *store],
        "search": ["search", "goalkeeper", *store],
        "open-collection": ["open-collection", *store, "-o", str(d / "oc.parquet")],
        "compress": ["compress", topics, "--model", "glove-6B-50d", "--queries", "50"],
        "retrieval-eval": ["retrieval-eval", *store, "--queries", str(d / "qq.jsonl"), "--qrels", str(d / "qrels.tsv")],
        "compare": ["compare", topics, "--models", "glove-6B-50d,tfidf-lsa", "--label-col", "label"],
        "translate": ["translate", topics, "--from", "glove-6B-50d", "--to", "tfidf-lsa"],
        "shift": ["shift", str(d / "a.txt"), str(d / "b.txt"), "--model", "glove-6B-50d"],
        "quality": ["quality", topics, "--model", "glove-6B-50d", "--label-col", "label", "--against",
                    str(d / "a.txt"), "--top", "3"],
        "finetune": ["finetune", str(resources.files("vecexplore.data").joinpath("demo_pairs.csv")), "--name", "keys",
                     "--batch-size", "64", "--test-share", "0.5", "--backend", "torch"],
    }
    fine_tuned = pytest.MonkeyPatch()  # the fine-tuned model is saved in this test's folder
    fine_tuned.setattr(finetuned, "root", lambda: d / "finetuned")
    results = {}
    for name, argv in cmds.items():
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(argv)
        results[name] = (code, json.loads(buffer.getvalue()))
    fine_tuned.undo()
    return results


@pytest.mark.parametrize("name", list(EXPECTED))
def test_json_keys_are_kept(outputs, name):
    code, out = outputs[name]
    assert code == 0, out
    found = _keys(out)
    for key, items in (("models", out.get("models")), ("pairs", out.get("pairs")), ("hits", out.get("hits")),
                       ("results", out.get("results")), ("rows", out.get("rows")),
                       ("clusters", out.get("clusters")), ("outliers", out.get("outliers")),
                       ("label_issues", out.get("label_issues"))):
        if isinstance(items, dict) and items and name in ("compare", "shift"):
            found |= {f"{key}.*.{k}" for k in next(iter(items.values()))}
        elif isinstance(items, list) and items and isinstance(items[0], dict):
            found |= {f"{key}[].{k}" for k in items[0]}
    assert EXPECTED[name] <= found, sorted(EXPECTED[name] - found)
