"""Plain helpers for the dashboard sockets, driven in process through the ASGI application."""

from channels.testing import WebsocketCommunicator

from portguard.asgi import application
from tests.helpers import token_for
from tests.realtime.frames import next_message

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def token_header(user):
    return (b"authorization", f"Token {token_for(user)}".encode())


# How long a test waits for a socket to answer: a ceiling, never a pause (the waits end as
# soon as the answer comes). Channels' defaults (1 s to connect, 3 s here before) are
# short for the suite's two passes sharing 2 cores on a slow day.
ANSWER_WITHIN = 10


async def connect(path, *headers):
    communicator = WebsocketCommunicator(application, path, headers=list(headers))
    connected, _subprotocol = await communicator.connect(timeout=ANSWER_WITHIN)
    return communicator, connected


async def close_code(communicator):
    output = await communicator.receive_output(timeout=ANSWER_WITHIN)
    assert output["type"] == "websocket.close"
    return output["code"]


async def receive_json(communicator):
    """The next message: the snapshot, or the next event of the frames received."""
    return await next_message(communicator, lambda: communicator.receive_from(timeout=ANSWER_WITHIN))
