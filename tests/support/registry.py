"""The OCI registry tests/install/test_release.py pushes the packaged chart to: the CNCF
distribution registry (built by `hack/bootstrap.sh --with-registry`) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import yaml

from dynamo_harness.paths import TOOLS_BIN
from dynamo_harness.processes import Supervisor, answers, free_port


class LocalRegistry:
    """The CNCF distribution registry on 127.0.0.1 with filesystem storage, as a supervised process."""

    NAME = "registry"

    def __init__(self, state_dir: Path, binary: Path = TOOLS_BIN / "registry"):
        self.binary = binary
        self.supervisor = Supervisor(state_dir)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"oci://127.0.0.1:{self.port}/charts"

    def start(self) -> None:
        state = self.supervisor.state_dir
        state.mkdir(parents=True, exist_ok=True)
        config = {"version": 0.1, "log": {"level": "warn"}, "storage": {"filesystem": {"rootdirectory": str(state / "data")}},
                  "http": {"addr": f"127.0.0.1:{self.port}"}}
        (state / "config.yaml").write_text(yaml.safe_dump(config))
        self.supervisor.start(self.NAME, [str(self.binary), "serve", str(state / "config.yaml")],
                              env={"OTEL_TRACES_EXPORTER": "none"})
        self.supervisor.wait(lambda: answers(f"http://127.0.0.1:{self.port}/v2/"), "the OCI registry's /v2/", 30,
                             [self.NAME])

    def stop(self) -> None:
        self.supervisor.remove([self.NAME])
