"""The report card's metrics: each task's primary metric, and what the card calls each metric."""

PRIMARY = {"retrieval": "mrr@10", "classification": "probe_accuracy", "clustering": "v_measure",
           "similarity": "spearman"}
METRIC_NAMES = {"recall@10": "recall@10", "mrr@10": "MRR", "ndcg@10": "nDCG@10", "probe_accuracy": "probe accuracy",
                "knn_accuracy": "k-NN accuracy", "v_measure": "V-measure", "spearman": "Spearman"}
TASK_OF = {"recall@10": "retrieval", "mrr@10": "retrieval", "ndcg@10": "retrieval",
           "probe_accuracy": "classification", "knn_accuracy": "classification", "v_measure": "clustering",
           "spearman": "similarity"}
