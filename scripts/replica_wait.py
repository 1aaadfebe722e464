"""What waiting for a replica costs the webhook acknowledgements:

    python -m scripts.replica_wait [--seconds 5] [--connections 16] [--rounds 2]
                                   [--replica-rtt-ms 1]

On a fresh stack whose Redis is replicated (a primary, two replicas and three
sentinels: scripts/redis_group.py), the web acknowledges webhooks with
INTAKE_REPLICAS=0 (the primary alone) and with INTAKE_REPLICAS=1 (its appends end
with WAIT), one stack each, the two interleaved for --rounds rounds; the replicas
replicate through a link of --replica-rtt-ms round trip (a replica in another zone of
the same region: about a millisecond; 0 for plain loopback); wrk sends the
same signed notifications to each. Prints requests/s, p50 and p99 of every run.
No worker runs: the figure is the acknowledgement's own. Needs wrk.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from scripts.bench_clients import WRK_SCRIPT, signed_notifications, write_signed_requests
from scripts.benchmark import parse_wrk
from scripts.redis_group import start_redis_group
from scripts.stack import Stack


def acknowledgements(directory: Path, replicas: int, args) -> str:
    """One stack with ``INTAKE_REPLICAS=replicas``: wrk's figures as one line."""
    directory.mkdir()
    stack = Stack(directory, LOG_LEVEL="WARNING")
    seconds, connections = args.seconds, args.connections
    try:
        start_redis_group(stack, replica_rtt_ms=args.replica_rtt_ms)
        stack.env["INTAKE_REPLICAS"] = str(replicas)
        stack.start_web()
        requests_file = directory / "requests.tsv"
        write_signed_requests(requests_file, signed_notifications(stack, seconds * 10_000, 100))
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
        command += ["-s", str(WRK_SCRIPT), stack.callback, "--", str(requests_file)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        stack.stop()
    rate, p50, p99, bad = parse_wrk(output)
    return (
        f"INTAKE_REPLICAS={replicas}  {rate:8.0f} acks/s  p50 {p50:5.2f} ms  p99 {p99:6.2f} ms"
        f"  non-2xx {bad}"
    )


def main(argv=None) -> None:
    """Interleave the two settings for the rounds asked; print each run's line."""
    cli = argparse.ArgumentParser(prog="python -m scripts.replica_wait", description=__doc__)
    cli.add_argument("--seconds", type=int, default=5, help="length of each wrk run (5)")
    cli.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    cli.add_argument("--rounds", type=int, default=2, help="rounds of the two settings (2)")
    cli.add_argument(
        "--replica-rtt-ms", type=float, default=1.0, help="round trip to the replicas (1)"
    )
    args = cli.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            for replicas in (0, 1):
                run = Path(tmp) / f"round-{round_number}-replicas-{replicas}"
                line = acknowledgements(run, replicas, args)
                print(line, flush=True)


if __name__ == "__main__":
    main()
