"""A TCP link with a round-trip time, to put between a client and a server on one machine.

    python -m scripts.latency_link --listen PORT --to HOST:PORT --rtt-ms 50

Every connection made to ``--listen`` is carried to ``--to``, each direction
delayed by half the round trip. It behaves like a link with latency, not like a
sleep per request: each chunk is forwarded at its arrival time plus the delay
while the next chunks are already being read, so the delay does not limit
throughput, and each direction keeps its byte order. Opening a connection costs
a round trip too (the SYN out and the SYN-ACK back): a client's first bytes
leave one round trip after it connected, so a client without keep-alive pays
for it. SIGTERM or SIGINT stops the link and drops its connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

CHUNK = 64 * 1024
QUEUED_CHUNKS = 256  # at most this many chunks in flight per direction (back-pressure beyond)


class Link:
    """Carries connections to ``host:port`` with ``rtt`` seconds of round trip."""

    def __init__(self, host: str, port: int, rtt: float):
        self.host, self.port = host, port
        self.rtt, self.one_way = rtt, rtt / 2
        self.connections: set[asyncio.Task] = set()

    async def serve(self, listen_host: str, listen_port: int, stop: asyncio.Event) -> None:
        """Accept connections until ``stop`` is set, then drop them all."""
        server = await asyncio.start_server(self.accept, listen_host, listen_port)
        await stop.wait()
        server.close()
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        await server.wait_closed()

    async def accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        """Carry one connection both ways until both ends have finished."""
        task = asyncio.current_task()
        self.connections.add(task)
        connected = asyncio.get_running_loop().time()
        writers = [client_writer]
        try:
            await asyncio.sleep(self.one_way)  # the SYN reaches the server
            server_reader, server_writer = await asyncio.open_connection(self.host, self.port)
            writers.append(server_writer)
            # The client may send once the SYN-ACK is back, a round trip after it connected.
            directions = [
                asyncio.create_task(
                    self.carry(client_reader, server_writer, sent_from=connected + self.rtt)
                ),
                asyncio.create_task(self.carry(server_reader, client_writer)),
            ]
            try:
                await asyncio.gather(*directions)
            finally:
                for direction in directions:
                    direction.cancel()
        except OSError:
            pass  # refused or reset: the other end sees the connection close
        except asyncio.CancelledError:
            pass  # the link is stopping: this connection's task ends here, quietly
        finally:
            for writer in writers:
                writer.close()
            self.connections.discard(task)

    async def carry(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sent_from: float = 0.0
    ) -> None:
        """Forward one direction: each chunk half a round trip after it was sent.

        A chunk counts as sent when it arrives here, or at ``sent_from`` if later.
        Reading and writing run apart, so chunks are in flight together.
        """
        loop = asyncio.get_running_loop()
        in_flight: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUED_CHUNKS)

        async def receive():
            while True:
                try:
                    data = await reader.read(CHUNK)
                except OSError:
                    data = b""  # a reset ends the direction like a close
                await in_flight.put((max(loop.time(), sent_from) + self.one_way, data))
                if not data:
                    return

        async def deliver():
            while True:
                due, data = await in_flight.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        receiving = asyncio.create_task(receive())
        try:
            await deliver()
            await receiving
        finally:
            receiving.cancel()


async def run(listen_host: str, listen_port: int, host: str, port: int, rtt: float) -> None:
    """Serve the link until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await Link(host, port, rtt).serve(listen_host, listen_port, stop)


def main(argv=None) -> None:
    """The command line: ``--listen PORT --to HOST:PORT --rtt-ms MS``."""
    cli = argparse.ArgumentParser(
        prog="python -m scripts.latency_link",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("--listen", type=int, required=True, help="port to accept connections on")
    cli.add_argument("--listen-host", default="127.0.0.1", help="address to listen on")
    cli.add_argument("--to", required=True, help="HOST:PORT to carry connections to")
    cli.add_argument("--rtt-ms", type=float, required=True, help="round-trip time to add")
    args = cli.parse_args(argv)
    host, _, port = args.to.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run(args.listen_host, args.listen, host or "127.0.0.1", int(port), args.rtt_ms / 1000)
        )


if __name__ == "__main__":
    main()
