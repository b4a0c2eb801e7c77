# The Cloud API simulator is its own distribution (simulator/ at the repository root),
# a test dependency like any other: these tests then run from any addons path. Without
# it they must fail, never skip, so a missing install cannot pass as a green run.
try:
    from wacrm_simulator import Account, Simulator, SimulatorConfig
except ImportError as error:
    raise ImportError(
        "whatsapp_crm's simulator tests need the Cloud API simulator package "
        "(wacrm_simulator): from the repository root run `pip install -e ./simulator` "
        "(requirements-dev.txt does) into the Python that runs Odoo"
    ) from error

from .common import WhatsappCrmCase


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
