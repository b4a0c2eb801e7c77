import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import template_authoring, templates
from ..lib.errors import CloudApiError
from .whatsapp_crm_template import CATEGORIES, QUALITIES, meta_status

_logger = logging.getLogger(__name__)

PAGE_SIZE_PARAM = "whatsapp_crm.template_page_size"
DEFAULT_PAGE_SIZE = 100


class WhatsappCrmTemplateMeta(models.Model):
    """What goes to and comes from Meta: submission, sync and status webhooks."""

    _inherit = "whatsapp.crm.template"

    def _translate_problem(self, problem):
        if not isinstance(problem, templates.Problem):
            return str(problem)
        params = {key: self._translate_problem(value) if isinstance(value, templates.Problem)
                  else value for key, value in problem.params.items()}
        return self.env._(problem.message, **params)

    def action_submit(self):
        """Validate like Meta, then create the template on Meta: it becomes pending."""
        for template in self:
            if template.status != "draft":
                raise UserError(self.env._(
                    "Only draft templates can be submitted; %(name)s is %(status)s.",
                    name=template.display_name,
                    status=dict(template._fields["status"]._description_selection(self.env))[
                        template.status],
                ))
            template._sync_variables()
            components = template._current_components()
            problems = templates.validate_template(
                template.name, template.language, template.category.upper(), components
            )
            if problems:
                raise UserError(self.env._(
                    "Meta would refuse the template %(name)s:\n%(problems)s",
                    name=template.display_name,
                    problems="\n".join(f"• {template._translate_problem(p)}" for p in problems),
                ))
            client = template.account_id._get_client()
            try:
                result = client.create_template(
                    template.name, template.language, template.category.upper(), components,
                    parameter_format=templates.parameter_format(components),
                )
            except CloudApiError as error:
                raise UserError(self.env._(
                    "Meta refused the template %(name)s: %(error)s",
                    name=template.display_name, error=error,
                )) from error
            template.write({
                "components": components,
                "meta_template_id": str(result.get("id") or ""),
                "status": meta_status(result.get("status")) or "pending",
                "rejection_reason": False,
            })
        return True

    def action_sync_from_meta(self):
        self.account_id.action_sync_from_meta()
        return True

    # ------------------------------------------------------------------
    # Meta's webhooks
    # ------------------------------------------------------------------

    @api.model
    def _find_for_item(self, item, account):
        domain = [("account_id", "=", account.id)]
        if item.template_id:
            found = self.with_context(active_test=False).search(
                domain + [("meta_template_id", "=", item.template_id)], limit=1)
            if found:
                return found
        language = template_authoring.normalize_language(item.language)
        return self.with_context(active_test=False).search(
            domain + [("name", "=", item.name), ("language", "=", language)], limit=1)

    @api.model
    def _process_meta_update(self, item, account):
        """Apply a template status, quality or category webhook; unknown ones sync first."""
        template = self._find_for_item(item, account)
        if not template:
            # Created on Meta's side (or before this database): fetch them all. A failure
            # leaves the event in error, and the retry job tries again.
            self._sync_account(account)
            template = self._find_for_item(item, account)
            if not template:
                return False
        changes, note, alert = template._changes_for_item(item)
        if changes:
            template.write(changes)
        template.message_post(body=note, subtype_xmlid="mail.mt_note")
        if alert:
            template.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=alert,
                note=note,
                user_id=(template.user_id or self.env.ref("base.user_admin")).id,
            )
        return True

    def _changes_for_item(self, item):
        """(values to write, chatter note, activity summary or None) for one webhook item."""
        self.ensure_one()
        from ..lib import webhook

        if isinstance(item, webhook.TemplateQualityUpdate):
            quality = str(item.new_quality or "unknown").lower()
            quality = quality if quality in dict(QUALITIES) else "unknown"
            note = self.env._("Meta rated the template quality %(quality)s (was %(previous)s).",
                              quality=item.new_quality, previous=item.previous_quality or "-")
            alert = self.env._("Template quality is red") if quality == "red" else None
            return {"quality": quality}, note, alert
        if isinstance(item, webhook.TemplateCategoryUpdate):
            category = str(item.new_category or item.correct_category or "").lower()
            note = self.env._("Meta re-categorised the template from %(old)s to %(new)s.",
                              old=item.previous_category or "-", new=category or "-")
            changes = {"category": category} if category in dict(CATEGORIES) else {}
            return changes, note, self.env._("Template re-categorised by Meta")
        status = meta_status(item.event)
        changes = {"status": status} if status else {}
        if item.category and item.category.lower() in dict(CATEGORIES):
            changes["category"] = item.category.lower()
        details = [d for d in (item.reason if item.reason != "NONE" else None,
                               item.rejection_reason, item.rejection_recommendation,
                               item.other_info_description) if d]
        if status == "rejected":
            changes["rejection_reason"] = "\n".join(details) or False
        elif status == "approved":
            changes["rejection_reason"] = False
        note = Markup("%s<br/>%s") % (
            self.env._("Meta reported the template event %(event)s.", event=item.event),
            "; ".join(details),
        ) if details else self.env._("Meta reported the template event %(event)s.",
                                     event=item.event)
        alerts = {
            "rejected": self.env._("Template rejected by Meta"),
            "paused": self.env._("Template paused by Meta"),
            "disabled": self.env._("Template disabled by Meta"),
        }
        return changes, note, alerts.get(status)

    @api.model
    def _action_sync_accounts(self, accounts):
        """The accounts' Sync Templates button: a Meta error becomes a UserError."""
        for account in accounts:
            try:
                self._sync_account(account)
            except CloudApiError as error:
                raise UserError(self.env._(
                    "The templates of %(account)s could not be fetched from Meta: %(error)s",
                    account=account.name, error=error)) from error
        return True

    @api.model
    def _cron_sync_accounts(self):
        for account in self.env["whatsapp.crm.account"].search([("waba_id", "!=", False)]):
            try:
                with self.env.cr.savepoint():
                    self._sync_account(account)
            except (CloudApiError, UserError):
                _logger.warning("WhatsApp account %s: template sync failed", account.id,
                                exc_info=True)

    @api.model
    def _sync_account(self, account):
        """Create or update the account's templates from Meta's list (all pages).

        Variable mappings of existing templates are kept; templates Meta no longer
        lists are marked deleted.
        """
        Template = self.sudo().with_context(active_test=False)
        page_size = int(self.env["ir.config_parameter"].sudo().get_param(
            PAGE_SIZE_PARAM, DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE)
        remote = account._get_client().list_templates(limit=page_size)
        now = fields.Datetime.now()
        existing = Template.search([("account_id", "=", account.id)])
        by_meta_id = {t.meta_template_id: t for t in existing if t.meta_template_id}
        by_key = {(t.name, t.language): t for t in existing}
        synced = Template
        for item in remote:
            name = item.get("name")
            language = template_authoring.normalize_language(item.get("language"))
            if not name or not language:
                continue
            template = by_meta_id.get(str(item.get("id"))) or by_key.get((name, language))
            values, examples = Template._values_from_authoring(item.get("components") or [])
            values.update(self._values_from_meta(item, template), last_synced_at=now)
            if template:
                template.write(values)
            else:
                template = Template.create({**values, "account_id": account.id})
            for variable in template.variable_ids.filtered(lambda v: not v.example):
                variable.example = examples.get(variable.key) or False
            synced |= template
        gone = existing.filtered(lambda t: t.meta_template_id and t not in synced
                                 and t.status != "deleted")
        gone.write({"status": "deleted", "last_synced_at": now})
        return synced

    @api.model
    def _values_from_meta(self, item, template):
        category = str(item.get("category") or "").lower()
        quality = str((item.get("quality_score") or {}).get("score") or "unknown").lower()
        reason = item.get("rejected_reason")
        values = {
            "name": item["name"],
            "language": template_authoring.normalize_language(item.get("language")),
            "meta_template_id": str(item.get("id") or "") or False,
            "components": item.get("components") or [],
            "status": meta_status(item.get("status")) or (template.status if template
                                                         else "pending"),
            "quality": quality if quality in dict(QUALITIES) else "unknown",
        }
        if reason and reason != "NONE":
            values["rejection_reason"] = reason
        elif values["status"] != "rejected":
            values["rejection_reason"] = False
        if category in dict(CATEGORIES):
            values["category"] = category
        return values
