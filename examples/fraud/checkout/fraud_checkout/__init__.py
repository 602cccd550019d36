"""checkout: accepts a transaction, publishes it to the events queue, returns the fraud verdict."""
