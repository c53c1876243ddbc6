"""Read by gunicorn when started in this folder: tells the app how many worker processes serve it, so that it
can warn when rate limits are counted per process (volunteer_app/extensions.py)."""
import os


def on_starting(server):
    """In the master, before any worker loads the app: the workers inherit the count."""
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
