"""The gateway (`python -m watcher gateway`): one address for every class.

Collectors and the portal know one base URL. The gateway reads the class from each legacy path
(routing.py), looks up that class's instance in the routing table the operator maintains
(table.py) and forwards the request to it unchanged, streaming both ways (proxy.py).
"""
