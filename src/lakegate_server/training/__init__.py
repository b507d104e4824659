"""Training: pipelines run on accepted data, a model registry with stages and an audit log,
batch predictions, and the triggers that start runs (new accepted versions, cron, by hand)."""
