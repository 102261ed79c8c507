"""Domain shift between two corpora: MMD, classifier two-sample test, centroid distance, k-NN mixing; :mod:`.report`
holds the workflow and its verdict."""
