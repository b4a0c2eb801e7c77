from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib.cloud_api import CloudApiClient
from .common import new_wamid
from .common_simulator import WhatsappCrmSimulatorCase

WA_ID = "5511987650000"
MEDIA_LOGGER = "odoo.addons.whatsapp_crm.models.whatsapp_crm_message"


@tagged("post_install", "-at_install")
class TestInboundMedia(WhatsappCrmSimulatorCase):
    """Media fetched over real HTTP from the Cloud API simulator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.media_account = cls.sim_line

    def _customer_sends(self, **fields):
        return self.customer_writes(WA_ID, name="Marta", **fields)

    def test_image_is_downloaded_into_an_attachment_and_shown_in_the_chatter(self):
        message = self._customer_sends(type="image", caption="mi pedido")
        self.assertEqual(message.media_state, "done")
        attachment = message.attachment_ids
        self.assertEqual(len(attachment), 1)
        self.assertTrue(attachment.mimetype.startswith("image/"))
        self.assertGreater(attachment.file_size, 0)
        posted = message.mail_message_ids
        self.assertEqual(len(posted), 2)  # lead and contact
        self.assertEqual(posted.attachment_ids, attachment)
        self.assertIn("mi pedido", posted[0].body)

    def test_document_keeps_its_file_name_and_voice_note_is_stored(self):
        document = self._customer_sends(type="document", filename="cotizacion.pdf")
        self.assertEqual(document.attachment_ids.name, "cotizacion.pdf")
        self.assertEqual(document.attachment_ids.mimetype, "application/pdf")
        voice = self._customer_sends(type="audio", voice=True)
        self.assertEqual(voice.media_state, "done")
        self.assertTrue(voice.attachment_ids.mimetype.startswith("audio/"))

    @mute_logger(MEDIA_LOGGER)
    def test_media_over_the_size_limit_is_refused_but_the_message_is_kept(self):
        self.media_account.media_max_bytes = 16
        message = self._customer_sends(type="image", caption="too big")
        self.assertEqual(message.media_state, "failed")
        self.assertFalse(message.attachment_ids)
        self.assertTrue(message.media_error)
        self.assertEqual(len(message.mail_message_ids), 2)

    @mute_logger(MEDIA_LOGGER)
    def test_content_that_does_not_match_its_declared_type_is_refused(self):
        client = CloudApiClient(
            self.sim_account.access_token,
            phone_number_id=self.sim_account.phone_number_id,
            base_url=self.simulator.base_url,
            timeout=20,
        )
        media_id = client.upload_media(b"%PDF-1.4\n%fake\n", "image/jpeg", "photo.jpg")
        payload = self.inbound_payload(
            WA_ID, account=self.media_account, type="image", wamid=new_wamid(),
            image={"id": media_id, "mime_type": "image/jpeg", "sha256": "x"},
        )
        self.post_ok(payload, secret=self.sim_account.app_secret)
        message = self.messages_of(WA_ID, account=self.media_account)
        self.assertEqual(message.media_state, "failed")
        self.assertIn("not image/jpeg", message.media_error)
        self.assertFalse(message.attachment_ids)

    @mute_logger(MEDIA_LOGGER)
    def test_transient_media_error_is_retried(self):
        self.simulator.inject_fault("http_500", count=1)
        message = self._customer_sends(type="image", caption="retry me")
        self.assertEqual(message.media_state, "pending")
        self.assertEqual(message.media_attempts, 1)
        message._fetch_media()
        self.assertEqual(message.media_state, "done")
        self.assertTrue(message.attachment_ids)
