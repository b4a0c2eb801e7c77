from odoo import api, fields, models

from ..lib.faq_matcher import FaqEntry, FaqMatcher


class WhatsappCrmAiFaq(models.Model):
    _name = "whatsapp.crm.ai.faq"
    _description = "WhatsApp FAQ Entry"
    _order = "sequence, id"
    _rec_name = "question"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    question = fields.Char(required=True)
    answer = fields.Text(required=True)
    keywords = fields.Char(
        help="Comma-separated words or phrases customers use for this question "
        "(any language; accents and plurals do not matter).",
    )
    account_id = fields.Many2one(
        "whatsapp.crm.account",
        string="WhatsApp Account",
        index=True,
        ondelete="cascade",
        check_company=True,
        help="Leave empty to answer on every WhatsApp account.",
    )
    company_id = fields.Many2one(
        "res.company",
        related="account_id.company_id",
        store=True,
        index=True,
        precompute=True,
    )
    active = fields.Boolean(default=True)

    @api.model
    def _match_answer(self, text, account=None, min_confidence=0.0):
        """Best FAQ entry for a customer's message.

        Entries of ``account`` and entries shared by every account take part.
        Return ``{"faq": record, "answer": str, "confidence": float}`` (confidence
        between 0 and 1), or None when no entry reaches ``min_confidence``.
        """
        domain = [("account_id", "in", [False, account.id])] if account else []
        entries = self.search(domain)
        matcher = FaqMatcher(
            FaqEntry(faq.id, faq.question, faq.answer, faq.keywords or "") for faq in entries
        )
        match = matcher.match(text or "", min_confidence)
        if not match:
            return None
        return {
            "faq": self.browse(match.key),
            "answer": match.answer,
            "confidence": match.confidence,
        }
