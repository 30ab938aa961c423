"""``motcua up``: the whole product on this machine, on loopback, with real wire-protocol servers.

Besides Kafka (Tansu), MongoDB (SecantusDB) and the four services, one process runs the
outside parties' stand-ins: two SMS gateways (main and backup, for notify's failover),
the postal carrier and an SMTP mailbox that reports bounces to notify's webhook.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from motcua_devstack import servers

SERVICES = ("reception", "processing", "postal", "notify")
PROVINCIAL_CENTRE = "000.00.06.H56"
SMS_API_KEY = "local-sms-key"
SMS_BACKUP_API_KEY = "local-sms-backup-key"
BOUNCE_ADDRESS = "bounces@motcua.local"


@dataclass
class Ports:
    kafka: int = 9092
    mongo: int = 27017
    reception: int = 8001
    processing: int = 8002
    postal: int = 8003
    notify: int = 8004
    sms: int = 8091
    carrier: int = 8092
    mailbox: int = 8093
    smtp: int = 1025
    sms_backup: int = 8094

    def service(self, name: str) -> int:
        return int(getattr(self, name))


@dataclass
class Stack:
    data_dir: Path
    ports: Ports
    host: str = "127.0.0.1"
    children: list[servers.LocalServer] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def keys(self) -> Path:
        return self.data_dir / "keys"

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"

    def service_env(self, name: str) -> dict[str, str]:
        p = name.upper() + "_"
        env = {
            f"{p}HOST": self.host,
            f"{p}PORT": str(self.ports.service(name)),
            f"{p}MONGO__URL": servers.mongo_url(self.ports.mongo),
            f"{p}KAFKA__BOOTSTRAP_SERVERS": f"{self.host}:{self.ports.kafka}",
            f"{p}KAFKA__SESSION_TIMEOUT_MS": "6000",
            f"{p}AUTH__JWKS_FILE": str(self.keys / "jwks.json"),
            f"{p}AUTH__ISSUER": "motcua-local",
        }
        if name == "reception":
            env["RECEPTION_LOOKUP_BASE_URL"] = f"{self.url(self.ports.reception)}/lookup"
        if name == "notify":
            receipts = f"{self.url(self.ports.notify)}/callbacks/sms"
            env |= {
                "NOTIFY_SMS__URL": self.url(self.ports.sms),
                "NOTIFY_SMS__API_KEY": SMS_API_KEY,
                "NOTIFY_SMS__RECEIPT_URL": receipts,
                "NOTIFY_SMS_BACKUP__URL": self.url(self.ports.sms_backup),
                "NOTIFY_SMS_BACKUP__API_KEY": SMS_BACKUP_API_KEY,
                "NOTIFY_SMS_BACKUP__NAME": "sms_backup",
                "NOTIFY_SMS_BACKUP__RECEIPT_URL": receipts,
                "NOTIFY_SMTP__HOST": self.host,
                "NOTIFY_SMTP__PORT": str(self.ports.smtp),
                "NOTIFY_SMTP__BOUNCE_ADDRESS": BOUNCE_ADDRESS,
            }
        if name == "postal":
            env |= {
                "POSTAL_CARRIER__URL": self.url(self.ports.carrier),
                "POSTAL_CARRIER__API_KEY": "local-carrier-key",
                "POSTAL_CARRIER__WEBHOOK_SECRET": "local-webhook-secret",
                "POSTAL_CARRIER__WEBHOOK_URL": f"{self.url(self.ports.postal)}/carrier/webhooks",
                # The embedded carrier is quick: poll a parcel it has not reported on for a minute.
                "POSTAL_SILENCE_SECONDS": "60",
                "POSTAL_TRACKING_SCAN_SECONDS": "10",
            }
        return env

    def standins_command(self) -> list[str]:
        """The stand-ins process; it answers on the main SMS port once every stand-in does."""
        p = self.ports
        return [
            sys.executable,
            "-m",
            "motcua_devstack.standins",
            "--host",
            self.host,
            "--sms-port",
            str(p.sms),
            "--sms-api-key",
            SMS_API_KEY,
            "--sms-backup-port",
            str(p.sms_backup),
            "--sms-backup-api-key",
            SMS_BACKUP_API_KEY,
            "--carrier-port",
            str(p.carrier),
            "--smtp-port",
            str(p.smtp),
            "--mailbox-http-port",
            str(p.mailbox),
            "--mail-dir",
            str(self.data_dir / "mail"),
            "--mail-bounce-webhook-url",
            f"{self.url(p.notify)}/callbacks/email-bounces",
        ]

    def start(self, *, seed: bool = True, echo: Any = print) -> None:
        from motcua_kit.auth import create_dev_keys

        self.logs.mkdir(parents=True, exist_ok=True)
        create_dev_keys(self.keys)
        kafka = servers.tansu(self.ports.kafka, self.logs / "tansu.log")
        mongo = servers.secantus(self.ports.mongo, self.data_dir / "mongo", self.logs / "secantus.log")
        for server in (kafka, mongo):
            echo(f"starting {server.name} on {self.host}:{server.port}")
            server.start()
            self.children.append(server)
        servers.wait_for_mongo(servers.mongo_url(self.ports.mongo))
        p = self.ports
        standins = servers.LocalServer("stand-ins", p.sms, self.standins_command(), self.logs / "standins.log")
        echo("starting stand-ins: SMS gateways (main and backup), postal carrier, SMTP mailbox")
        standins.start()
        self.children.append(standins)
        for name in SERVICES:
            echo(f"starting {name} on {self.url(p.service(name))}")
            service = servers.LocalServer(
                name,
                p.service(name),
                [sys.executable, "-m", name],
                self.logs / f"{name}.log",
                env={**os.environ, **self.service_env(name)},
            )
            service.start(timeout=60)
            self.children.append(service)
        for name in SERVICES:
            self.wait_ready(name)
        if seed:
            self.seed()
        self.write_state(ready=True)

    def wait_ready(self, name: str, timeout: float = 90.0) -> None:
        url = self.url(self.ports.service(name)) + "/health/ready"
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self.check_children()
            try:
                r = httpx.get(url, timeout=3)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise RuntimeError(f"{name} not ready within {timeout} s: {last}")

    def seed(self) -> None:
        catalogue = json.loads(files("motcua_devstack").joinpath("seed/demo_province.json").read_text("utf-8"))
        r = httpx.post(
            self.url(self.ports.reception) + "/catalogue/import",
            json=catalogue,
            headers={"Authorization": "Bearer " + self.token("centre_admin", PROVINCIAL_CENTRE)},
            timeout=60,
        )
        if r.status_code != 200:
            raise RuntimeError(f"seeding the demo province failed: {r.status_code} {r.text}")

    def token(self, role: str, scope: str) -> str:
        from motcua_kit.auth import Role, mint_token

        return mint_token(self.keys, role=Role(role), scope=scope)

    def write_state(self, *, ready: bool) -> None:
        state = {
            "ready": ready,
            "host": self.host,
            "ports": asdict(self.ports),
            "data_dir": str(self.data_dir),
            "pid": os.getpid(),
        }
        (self.data_dir / "stack.json").write_text(json.dumps(state, indent=2))

    def check_children(self) -> None:
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited with code {child.proc.returncode}; see {child.log_path or 'its output'}"
                )

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        state = self.data_dir / "stack.json"
        if state.exists():
            self.write_state(ready=False)

    def banner(self) -> str:
        p = self.ports
        lines = ["", "motcua is up.", ""]
        for name in SERVICES:
            base = self.url(p.service(name))
            lines.append(f"  {name:<11} {base}   docs {base}/docs   metrics {base}/metrics")
        lines += [
            "",
            f"  kafka (Tansu)      {self.host}:{p.kafka}",
            f"  mongodb (Secantus) {servers.mongo_url(p.mongo)}   data in {self.data_dir / 'mongo'}",
            f"  SMS gateway        {self.url(p.sms)}/_control/messages",
            f"  SMS gateway (backup) {self.url(p.sms_backup)}/_control/messages",
            f"  postal carrier     {self.url(p.carrier)}/_control/orders",
            f"  mailbox (SMTP {p.smtp}) {self.url(p.mailbox)}/_control/mails",
            f"  mail bounces       {self.url(p.mailbox)}/_control/bounces   (any *.invalid address bounces)",
            f"  logs               {self.logs}",
            "",
            "Staff tokens (12 h); more with: motcua token --role ROLE --scope CODE",
            f"  counter officer, {PROVINCIAL_CENTRE}: {self.token('counter_officer', PROVINCIAL_CENTRE)}",
            f"  centre admin, {PROVINCIAL_CENTRE}:    {self.token('centre_admin', PROVINCIAL_CENTRE)}",
            f"  postal partner, VNPOST-KHH:       {self.token('postal_partner', 'VNPOST-KHH')}",
            "",
            "Receive a first dossier:",
            f"  curl -X POST {self.url(p.reception)}/dossiers -H 'Authorization: Bearer <counter officer token>' \\",
            "       -H 'Content-Type: application/json' -d @devstack/examples/intake.json",
            "",
            "Ctrl-C stops everything; the database is kept for the next start.",
        ]
        return "\n".join(lines)


def up(
    data_dir: Annotated[Path, typer.Option(help="Where the database, keys and logs live.")] = Path(".motcua"),
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    kafka_port: int = 9092,
    mongo_port: int = 27017,
    reception_port: int = 8001,
    processing_port: int = 8002,
    postal_port: int = 8003,
    notify_port: int = 8004,
    sms_port: int = 8091,
    carrier_port: int = 8092,
    mailbox_port: int = 8093,
    smtp_port: int = 1025,
    sms_backup_port: int = 8094,
    seed: Annotated[bool, typer.Option(help="Load the demo province.")] = True,
) -> None:
    """Start the whole product on this machine (embedded default) until Ctrl-C."""
    ports = Ports(
        kafka=kafka_port,
        mongo=mongo_port,
        reception=reception_port,
        processing=processing_port,
        postal=postal_port,
        notify=notify_port,
        sms=sms_port,
        carrier=carrier_port,
        mailbox=mailbox_port,
        smtp=smtp_port,
        sms_backup=sms_backup_port,
    )
    stack = Stack(data_dir=data_dir.resolve(), ports=ports, host=host)
    stopping = False

    def on_signal(signum: int, _: Any) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        stack.start(seed=seed, echo=lambda m: typer.echo(m, err=True))
        typer.echo(stack.banner())
        while True:
            stack.check_children()
            time.sleep(0.5)
    except KeyboardInterrupt:
        typer.echo("stopping...", err=True)
    except Exception as exc:
        typer.echo(f"motcua up failed: {exc}", err=True)
        stack.stop()
        raise typer.Exit(1) from exc
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    typer.echo("stopped.", err=True)


def register(app: typer.Typer) -> None:
    app.command()(up)
