"""Running the app as a fleet: the read-replica router, health checks and heartbeats,
request ids carried from the web request into logs and Celery tasks, and the management
commands an operator runs (`health`, `run_job`). See the README's "Deployment"."""
