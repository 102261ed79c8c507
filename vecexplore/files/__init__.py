"""Reading and writing the user's files: corpora (texts, tables, TF-Projector exports, demos) and exports."""
