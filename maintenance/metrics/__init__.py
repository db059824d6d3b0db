"""The Prometheus endpoint: a collector over the job history read at scrape time, and its HTTP server."""
