"""Serving the review: 127.0.0.1 only, a clear error for a port in use, the command line's errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from grader.cli import main
from grader.review.app import create_app
from grader.review.serve import HOST, PortInUse, bind
from tests.grader.review.conftest import CATALOGUE


def test_a_port_in_use_gives_a_clear_error(hostile_class: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is in use.*--port"):
            bind(create_app(hostile_class, CATALOGUE), port)


def test_the_server_listens_on_this_machine_only(hostile_class: Path) -> None:
    server = bind(create_app(hostile_class, CATALOGUE), 0)
    try:
        assert server.socket.getsockname()[0] == "127.0.0.1"
    finally:
        server.close()


def test_the_command_refuses_a_folder_without_a_gradebook(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_code:
        main(["review", str(tmp_path), "--port", "0"])
    assert exit_code.value.code == 2 and "no gradebook at" in capsys.readouterr().err


def test_the_command_refuses_a_port_in_use(hostile_class: Path, capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        with pytest.raises(SystemExit) as exit_code:
            main(["review", str(hostile_class), "--port", str(taken.getsockname()[1])])
    assert exit_code.value.code == 2 and "is in use" in capsys.readouterr().err
