"""Fine-tuning a model on the user's pairs (:mod:`.tuner`) and the before/after report (:mod:`.report`)."""
