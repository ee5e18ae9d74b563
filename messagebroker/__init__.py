"""The message broker (``python -m messagebroker``): WebSocket fan-out on 127.0.0.1:3380.

See :mod:`messagebroker.relay` for the wire protocol.
"""

from messagebroker.relay import BrokerServerFactory, BrokerServerProtocol, Relay

__all__ = ["Relay", "BrokerServerProtocol", "BrokerServerFactory"]
