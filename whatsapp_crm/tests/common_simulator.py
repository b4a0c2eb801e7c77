import sys
from pathlib import Path

from .common import WhatsappCrmCase

# The Cloud API simulator lives in the repository's tests/ folder, beside the addons.
REPOSITORY = Path(__file__).resolve().parents[2]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from tests.simulator import Account, Simulator, SimulatorConfig  # noqa: E402


class WhatsappCrmSimulatorCase(WhatsappCrmCase):
    """An account wired to an in-process Cloud API simulator, over real HTTP."""

    simulator_config = {"status_latency": 3600}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim_account = Account(
            waba_id="700000000000007",
            phone_number_id="800000000000008",
            display_phone_number="15550004444",
            access_token="outbound-test-token",
            app_secret="outbound-test-secret",
        )
        cls.simulator = Simulator(
            SimulatorConfig(accounts=[cls.sim_account], **cls.simulator_config)
        )
        cls.simulator.start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.sim_line = cls.env["whatsapp.crm.account"].create({
            "name": "Simulated line",
            "waba_id": cls.sim_account.waba_id,
            "phone_number_id": cls.sim_account.phone_number_id,
            "display_phone_number": cls.sim_account.display_phone_number,
            "access_token": cls.sim_account.access_token,
            "app_secret": cls.sim_account.app_secret,
            "api_base_url": cls.simulator.base_url,
            "team_id": cls.team.id,
        })

    def setUp(self):
        super().setUp()
        self.simulator.reset()  # each test starts with no request, fault or customer
        self.sim_account.webhook_url = f"{self.base_url()}/whatsapp_crm/webhook"

    def customer_writes(self, wa_id, name="Marta", **fields):
        """A customer writes through the simulator, which signs and posts the webhook."""
        self.env.flush_all()
        # The simulator posts from its own thread, without the test's cookie.
        with self.allow_requests(all_requests=True):
            result = self.simulator.customer_sends(wa_id, name=name, **fields)
        self.assertEqual(result["delivery"]["status_code"], 200, result)
        return self.env["whatsapp.crm.message"].search([("wamid", "=", result["wamid"])])

    def sent_requests(self):
        return [r for r in self.simulator.requests("/messages") if r["method"] == "POST"]
