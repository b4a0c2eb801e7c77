from datetime import timedelta

from pytz import utc

from odoo import fields, models

ASSIGNMENT_METHODS = [
    ("round_robin", "Sticky, then Round-Robin"),
    ("least_loaded", "Sticky, then Least Loaded"),
    ("manual", "Manual"),
]


class CrmTeam(models.Model):
    _inherit = "crm.team"

    whatsapp_assignment = fields.Selection(
        ASSIGNMENT_METHODS,
        string="WhatsApp Assignment",
        default="round_robin",
        help="Sticky: the lead's salesperson, else the contact's, when they are an "
        "available member of the team. Otherwise round-robin among available members, "
        "or the member with the fewest open conversations. Manual: conversations wait "
        "in the team's queue.",
    )
    whatsapp_max_open = fields.Integer(
        string="Max Open Conversations per Agent",
        help="Agents with this many open conversations get no new one. 0 means no limit.",
    )
    whatsapp_response_target_minutes = fields.Integer(
        string="First Response Target (minutes)",
        help="When a customer waits longer than this for an answer, the assignee (or the "
        "team leader) gets an activity. 0 disables it.",
    )
    whatsapp_calendar_id = fields.Many2one(
        "resource.calendar",
        string="WhatsApp Business Hours",
        help="Outside these hours, customers who write get the away message.",
    )
    whatsapp_away_enabled = fields.Boolean(string="Send Away Message")
    whatsapp_away_message = fields.Text(
        string="Away Message",
        translate=True,
        help="Sent at most once every 12 hours per conversation, in the customer's language.",
    )

    _whatsapp_max_open_positive = models.Constraint(
        "CHECK(whatsapp_max_open >= 0)", "The conversation cap cannot be negative."
    )
    _whatsapp_response_target_positive = models.Constraint(
        "CHECK(whatsapp_response_target_minutes >= 0)",
        "The first response target cannot be negative.",
    )

    def _whatsapp_members(self):
        """Internal, active members of the team, in a stable order."""
        self.ensure_one()
        return self.crm_team_member_ids.filtered(
            lambda member: member.active and member.user_id.active and not member.user_id.share
        ).user_id.sorted("id")

    def _whatsapp_is_open_at(self, when):
        """Whether the team works at `when` (naive UTC); no calendar means always."""
        self.ensure_one()
        calendar = self.whatsapp_calendar_id
        if not calendar:
            return True
        start = utc.localize(when) if not when.tzinfo else when
        intervals = calendar._work_intervals_batch(start, start + timedelta(minutes=1))
        return bool(intervals[False])
