"""The network, for everything clientcheck fetches or sends: ``urls`` judges an address (https, or plain
http to this machine) from the parser the request is made with; ``https`` is the one client, with one set
of safety rules and a ``Policy`` per caller (the rule fetch at login, ``rules generate``'s feeds, and the
collector's shipping). Nothing here is imported on the offline path, and ``requests`` only when a request
is made."""
