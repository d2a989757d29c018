"""The *floor endpoint*: what the cheapest possible ingest costs on the same server, database and machine
(parse the body, one INSERT and one UPDATE in one durable transaction, raw SQL, no authentication and no
validation), so that bench/loadsim.py can give the real ingest's rate as a share of it, measured in the
same run.

Benchmark-only. It lives under bench/, outside the server's package (the clientcheck-server wheel ships
``clientcheck_server`` alone), and it is reachable only through this folder's settings module, which the
bench's own launcher (``python bench/floorbench``) names: ``clientcheck-server`` always sets
``clientcheck_server.settings``, whose URLconf has no such route
(server/clientcheck_server/core/tests/test_no_bench_routes.py checks both).
"""
