"""The HTTP layer of ``python -m bws`` (docs/spec/api.md §2–§4).

:mod:`bws.http.app` (the klein shell and error envelope), :mod:`bws.http.routing`
(the Express-style route table), :mod:`bws.http.request` (what handlers see,
and the one place a Caller becomes the service they call), :mod:`bws.http.auth`
(signature / session / support staff -> Caller), :mod:`bws.http.jsonbody`,
:mod:`bws.http.routes` (one module per aggregate, registered explicitly), and
the operations side: :mod:`bws.http.ratelimit`, :mod:`bws.http.metrics`,
:mod:`bws.http.health`, :mod:`bws.http.openapi`.

The HTTP layer calls the services and never the storage, and never writes
into the services' options.  Importing this package imports nothing else.
"""
