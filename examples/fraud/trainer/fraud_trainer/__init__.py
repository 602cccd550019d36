"""trainer: consumes checkout events, trains the fraud model, stores a new model version."""
