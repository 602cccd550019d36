"""A local fraud platform on loopback: a real RabbitMQ, a real S3 server, the three apps as
processes. Used by the tests (examples/fraud/conftest.py) and by `make demo` (demo.py)."""
