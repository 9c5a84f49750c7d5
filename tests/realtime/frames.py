"""Reading what a dashboard socket receives: a snapshot (an object), then event frames
(a list of the events one commit sent), one message at a time."""

import json


def messages_of(text: str | bytes) -> list[dict]:
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


async def next_message(connection, receive) -> dict:
    """The next message ``connection`` received, one event at a time: ``receive()``
    gives its next text when the events of the frames already read are used up."""
    waiting = connection.__dict__.setdefault("waiting_messages", [])
    while not waiting:
        waiting.extend(messages_of(await receive()))
    return waiting.pop(0)
