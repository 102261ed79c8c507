"""Build the HNSW graph of one Qdrant Edge shard folder in its own process (see
:mod:`vecexplore.search.qdrant.edge`)."""

import sys

import qdrant_edge as qe

if __name__ == "__main__":
    shard = qe.EdgeShard.load(sys.argv[1])
    shard.optimize()
    shard.close()
