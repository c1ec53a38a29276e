"""Stand-in process for a report kernel forked by the kernel zygote (see ``_zygote.py``).

jupyter_client launches this script where it would launch ``python -m ipykernel_launcher``,
with the same arguments, and manages it as the kernel process: it polls it, signals it, kills
it. The script asks the zygote for a kernel (handing over its working directory, environment
and standard streams), then stands in for it:

- signals it receives (interrupt, terminate, hang-up, …) are passed on to the kernel;
- it exits when the kernel exits, so jupyter_client sees the kernel's end;
- if it is killed, the kernel sees it gone and exits (the kernel watches it);
- if its own parent (the pool worker) dies, it kills the kernel and exits, as ipykernel's
  parent poller would;
- if the zygote cannot be reached, it becomes an ordinary kernel (``exec`` of
  ``python -m ipykernel_launcher``), so a report never fails for want of a zygote.

It imports only the standard library and is run by path with ``-I -S`` (≈ 15 ms to start).
"""

import json
import os
import select
import signal
import socket
import sys

#: signals passed on to the kernel (SIGKILL and SIGSTOP cannot be caught)
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
             signal.SIGUSR2)


def _ask(address: str, args: list[str]) -> int:
    """Have the zygote fork a kernel; return its process id."""
    request = json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ),
                          "stub": os.getpid()}).encode("utf-8")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(address)
        socket.send_fds(sock, [len(request).to_bytes(4, "big") + request], [0, 1, 2])
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    answer = json.loads(reply.decode("utf-8"))
    if "pid" not in answer:
        raise OSError(answer.get("error", "no kernel"))
    return int(answer["pid"])


def main() -> None:
    address, args = sys.argv[1], sys.argv[2:]
    parent = os.getppid()
    try:
        pid = _ask(address, args)
        kernel = os.pidfd_open(pid)
    except (OSError, ValueError):
        # no zygote (or it failed): be an ordinary kernel instead
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *args])

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in FORWARDED:
        signal.signal(sig, forward)
    while True:
        ready, _, _ = select.select([kernel], [], [], 1.0)
        if ready:
            break  # the kernel has exited
        if os.getppid() != parent:  # the worker that manages us is gone
            forward(signal.SIGKILL, None)
            break


if __name__ == "__main__":
    main()
