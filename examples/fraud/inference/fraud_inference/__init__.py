"""inference: serves fraud predictions from the newest model version in the model bucket."""
