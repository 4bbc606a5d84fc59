"""The embedded broker: kombu's filesystem transport, with messages that appear whole.

kombu's own `_put` creates the message file under its final name and then writes it, while `_get` takes
any file with a matching name (it moves it; a rename ignores the writer's lock): a worker polling at that
moment reads an empty or truncated message, and the task is lost. Here a message is written under a name
no queue matches and renamed into place once complete (a rename is atomic within a folder).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".partial-{uuid.uuid4()}")  # matches no queue
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
