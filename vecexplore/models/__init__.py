"""Comparing models on the same texts: CKA, RSA, k-NN overlap, probes, alignment, translation; :mod:`.report` holds the
workflows."""
