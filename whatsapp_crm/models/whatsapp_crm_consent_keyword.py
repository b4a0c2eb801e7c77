from odoo import api, fields, models

from ..lib.consent import normalize_keyword


class WhatsappCrmConsentKeyword(models.Model):
    """A whole inbound message that changes the sender's marketing consent."""

    _name = "whatsapp.crm.consent.keyword"
    _description = "WhatsApp Consent Keyword"
    _order = "action, language, name"

    name = fields.Char(
        string="Keyword",
        required=True,
        help="Matches when the whole message (or a tapped button) equals it, "
        "ignoring case, accents and punctuation.",
    )
    normalized_name = fields.Char(compute="_compute_normalized_name", store=True, index=True)
    language = fields.Selection(
        [("en", "English"), ("es", "Spanish"), ("pt", "Portuguese")], required=True, default="en"
    )
    action = fields.Selection(
        [("opt_out", "Opt Out"), ("opt_in", "Opt In")], required=True, default="opt_out"
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Leave empty to use the keyword in every company."
    )

    _keyword_uniq = models.UniqueIndex(
        "(normalized_name, language, COALESCE(company_id, 0)) WHERE active",
        "This keyword already exists for this language and company.",
    )

    @api.depends("name")
    def _compute_normalized_name(self):
        for keyword in self:
            keyword.normalized_name = normalize_keyword(keyword.name)

    @api.model
    def _match(self, texts, company):
        """The keyword equal to the first matching text; a company's own wins."""
        candidates = [normalize_keyword(text) for text in texts if text]
        candidates = [candidate for candidate in candidates if candidate]
        if not candidates:
            return self.browse()
        keywords = self.sudo().search(
            [
                ("normalized_name", "in", candidates),
                ("company_id", "in", [False, company.id]),
            ]
        )
        for candidate in candidates:
            matching = keywords.filtered(lambda k, c=candidate: k.normalized_name == c)
            if matching:
                return matching.sorted(lambda k: not k.company_id)[0]
        return self.browse()

    @api.model
    def _consent_state(self, action):
        return {"opt_out": "opted_out", "opt_in": "opted_in"}[action]
