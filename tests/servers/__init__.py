"""Real helper servers for tests (stunnel4 for TLS, nginx for HTTP auth), started and stopped
by fixtures on 127.0.0.1 with free ports, their output redirected to files."""
