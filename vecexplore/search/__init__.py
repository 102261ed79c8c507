"""Search on tagged Qdrant collections: the store and its rules (:mod:`.store`), opening Qdrant Edge or a server
(:mod:`.opening`), the backends (:mod:`.qdrant`), retrieval metrics, the compression lab; :mod:`.report` holds the
workflows."""
