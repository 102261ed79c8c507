"""Anisotropy and post-processing: isotropy metrics, centering, all-but-the-top, whitening, ZCA, and whether a transform
helps STS; :mod:`.report` holds the workflows."""
