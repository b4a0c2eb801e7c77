import logging
import threading

from odoo import fields, models, modules

_logger = logging.getLogger(__name__)

# Odoo's cron workers poll every minute and are only woken at once for triggers
# that are already due; a retry due within this many seconds gets a wake-up call.
CRON_POLL_SECONDS = 60


class IrCron(models.Model):
    _inherit = "ir.cron"

    def _whatsapp_crm_trigger_at(self, when):
        """Run this job at ``when``, not at the cron workers' next poll.

        The trigger row is the durable part; the timer only wakes the workers on
        time, and if this process ends first, their regular poll runs the job.
        """
        self.ensure_one()
        self._trigger(when)
        delay = (when - fields.Datetime.now()).total_seconds()
        if delay <= 0 or delay >= CRON_POLL_SECONDS or modules.module.current_test:
            return
        notify = self._notifydb

        def start_timer():
            timer = threading.Timer(delay, _notify_quietly, args=(notify,))
            timer.daemon = True
            timer.start()

        self.env.cr.postcommit.add(start_timer)


def _notify_quietly(notify):
    try:
        notify()
    except Exception:  # noqa: BLE001 - the regular poll still runs the job
        _logger.info("Could not wake the cron workers", exc_info=True)
