"""Meta WhatsApp Cloud API simulator (independent of the whatsapp_crm addon).

Usage::

    from wacrm_simulator import Account, Simulator, SimulatorConfig

    sim = Simulator(SimulatorConfig(accounts=[Account(webhook_url="http://127.0.0.1:8069/...")]))
    sim.start()          # port 0 -> ephemeral; see sim.base_url
    ...
    sim.stop()

CLI: ``wacrm-simulator --port 8790 --config sim.json [--script demo]`` (or
``python3 -m wacrm_simulator ...``). Installed with ``pip install -e ./simulator``.
"""

from .config import Account, SimulatorConfig
from .customers import ScriptRunner
from .errors import GraphError
from .server import Simulator
from .webhooks import sign

__all__ = ["Account", "GraphError", "ScriptRunner", "Simulator", "SimulatorConfig", "sign"]
