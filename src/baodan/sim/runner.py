"""Running the simulator: in the foreground for `baodan sim`, or in a background thread for tests and
scripts (`Simulator`, on a free port unless one is given)."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self, TypeVar

import uvicorn

from baodan.channels.base import Adapter, Credentials
from baodan.sim.app import create_app
from baodan.sim.config import SimConfig, SimConfigError, credentials_line, load_config
from baodan.sim.simulation import Simulation
from baodan.sim.store import SimStore

T = TypeVar("T")


class Simulator:
    """The simulator in a background thread: `start()` … `stop()`, or `with Simulator(config) as sim:`.
    `store` holds what the platforms hold, for assertions."""

    def __init__(self, config: SimConfig | None = None, *, adapters: Mapping[str, Adapter] | None = None,
                 id_base: int | None = None, log_level: str = "warning") -> None:
        self.config = config or load_config(port=0)
        self.simulation = Simulation(self.config, adapters=adapters, id_base=id_base)
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def store(self) -> SimStore:
        return self.simulation.store

    def base_url(self, channel: str) -> str:
        """What BaoDan (or an SDK) takes as the platform's gateway root."""
        return self.url + self.config.prefix(channel)

    def credentials(self, channel: str) -> Credentials:
        return self.config.platforms[channel].credentials

    def start(self, timeout_s: float = 10.0) -> Self:
        sock = _bind(self.config.host, self.config.port)
        self.url = f"http://{self.config.host}:{sock.getsockname()[1]}"
        self._server = _server(self.simulation, self._log_level)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="baodan-sim",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the simulator did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # driving it from another thread

    def start_session(self, **overrides: Any) -> dict[str, Any]:
        """Start a live session (rate, orders, hot_skus, hot_share, seed, platforms, …); returns its status."""
        return self._on_loop(lambda: self.simulation.start_session(**overrides).status())

    def add_orders(self, channel: str, count: int, *, seed: int = 0, paid: bool = True) -> list[dict[str, Any]]:
        """Add `count` new orders to a platform now (each pushed like a session's), drawn with `seed`;
        returns them as canonical orders."""
        return self._on_loop(lambda: self.simulation.add_orders(channel, count, seed=seed, paid=paid))

    def wait_session(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Wait until the session has emitted its orders and follow-ups."""
        self._wait(lambda: self.simulation.session is not None and not self.simulation.session.running,
                   timeout_s, "the session did not finish")
        return self._on_loop(self._session_status)

    def wait_pushes(self, timeout_s: float = 30.0) -> None:
        """Wait until no push is waiting, retrying or being delivered."""
        self._wait(lambda: self._on_loop(lambda: self.simulation.pending_pushes) == 0, timeout_s,
                   "pushes still pending")

    def pause_pushes(self) -> None:
        self._on_loop(lambda: setattr(self.simulation.pushes, "paused", True))

    def resume_pushes(self) -> None:
        self._on_loop(lambda: setattr(self.simulation.pushes, "paused", False))

    def _session_status(self) -> dict[str, Any]:
        return self.simulation.session.status() if self.simulation.session else {}

    def _on_loop(self, fn: Callable[[], T], timeout_s: float = 10.0) -> T:
        loop = self.simulation.loop
        if loop is None:
            raise RuntimeError("the simulator is not running")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout_s)

    @staticmethod
    def _wait(done: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} after {timeout_s} s")
            time.sleep(0.02)


def serve(config: SimConfig, *, echo: Callable[[str], None] = print) -> None:
    """Run the simulator in the foreground until Ctrl-C (or SIGTERM), printing each platform's
    credentials first."""
    sock = _bind(config.host, config.port)
    url = f"http://{config.host}:{sock.getsockname()[1]}"
    for line in credential_lines(config, url):
        echo(line)
    session = config.session
    pushes = f"pushes to {config.pushes.push_to}/webhooks/<platform>" if config.pushes.push_to else "no pushes"
    echo(f"simulator on {url} (inspect: {url}/_sim/status); " + pushes
         + (f"; session: {session.orders} orders at {session.rate:g}/s on "
            f"{', '.join(config.session_platforms())}, {session.hot_skus} hot SKUs, seed {session.seed}"
            if session.autostart and session.orders else "; no session"))
    _server(Simulation(config), "warning").run(sockets=[sock])


def credential_lines(config: SimConfig, url: str) -> Iterator[str]:
    for channel in config.platforms:
        yield credentials_line(config, channel, base_url=url + config.prefix(channel))
    for service, carrier in config.carriers.items():  # what a carrier account (adapter …) is given
        creds = carrier.credentials
        yield " ".join([service, f"adapter={carrier.adapter}", f"app_key={creds.app_key}",
                        f"app_secret={creds.app_secret}",
                        *([f"access_token={creds.access_token}"] if creds.access_token else []),
                        *(f"{k}={v}" for k, v in sorted(creds.extra.items())), f"base_url={url}/{service}"])


def _server(simulation: Simulation, log_level: str) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(create_app(simulation), log_level=log_level, access_log=False,
                                         lifespan="on"))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SimConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                             code="sim.cannot_listen") from None
    sock.listen(2048)  # connections made before the server starts wait instead of being refused
    sock.set_inheritable(True)
    return sock

