from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools.phone import country_prefix, format_international, is_withheld, possible_e164, to_e164

# N6: no outgoing calls to China, whatever else is configured.
FORBIDDEN_DESTINATION_PREFIXES = {86}
# The ``phone_number`` of the entry that blocks callers who withhold their number.
WITHHELD = 'anonymous'


class TelephonyBlockedNumber(models.Model):
    """A number that may not call in, nor be called (U4).

    The block list of a company is the set of its blocked numbers. Numbers are stored in E.164,
    whatever way they were typed, so that the webhook can compare Twilio's ``From`` (always
    E.164) with one indexed equality (see :meth:`is_blocked`).
    """
    _name = 'telephony.blocked.number'
    _inherit = ['telephony.account.mixin']
    _description = "Blocked Number"
    _order = 'phone_number'
    _rec_name = 'phone_number'

    phone_number = fields.Char(
        "Number", required=True,
        help="In E.164 form. Any possible number is accepted, assigned or not (spoofed caller IDs "
             "often are not).")
    withheld = fields.Boolean(
        "Caller ID withheld",
        help="Blocks the callers who withhold their number (anonymous, restricted, unknown).")
    phone_number_display = fields.Char("Number (formatted)", compute='_compute_phone_number_display')
    note = fields.Char()

    # The unique constraint's index, (company_id, phone_number), is the one is_blocked() uses.
    _sql_constraints = [
        ('phone_company_uniq', 'unique(company_id, phone_number)', "This number is already blocked."),
    ]

    @api.depends('phone_number')
    def _compute_phone_number_display(self):
        for blocked in self:
            blocked.phone_number_display = format_international(blocked.phone_number)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get('withheld'):
                vals['phone_number'] = WITHHELD
            elif vals.get('phone_number'):
                company = self.env['res.company'].browse(vals.get('company_id')) or self.env.company
                vals['phone_number'] = self._normalize(vals['phone_number'], company)
        return super().create(vals_list)

    def write(self, vals):
        if 'withheld' in vals:
            if vals['withheld']:
                vals = dict(vals, phone_number=WITHHELD)
            elif not vals.get('phone_number') and WITHHELD in self.mapped('phone_number'):
                raise UserError(_("Type the number to block."))
        if vals.get('phone_number') and not vals.get('withheld'):
            for company in self.company_id:
                blocked = self.filtered(lambda b: b.company_id == company)
                super(TelephonyBlockedNumber, blocked).write(
                    dict(vals, phone_number=self._normalize(vals['phone_number'], company)))
            return True
        return super().write(vals)

    @api.depends('phone_number', 'withheld')
    def _compute_display_name(self):
        for blocked in self:
            blocked.display_name = _("Caller ID withheld") if blocked.withheld \
                else format_international(blocked.phone_number)

    @api.model
    def _normalize(self, phone_number, company):
        """``phone_number`` in E.164, a national number being read in ``company``'s country.

        Any *possible* number is accepted (right length for its country), assigned or not.
        """
        e164 = possible_e164(phone_number, company.country_id.code)
        if not e164:
            raise UserError(_(
                "%(number)s is not a phone number: type it in international format, e.g. "
                "+14155552671, or tick \"Caller ID withheld\" to block callers who hide their number.",
                number=phone_number))
        return e164

    @api.model
    def _block_key(self, phone_number, company):
        """What ``phone_number`` is stored as on the block list: its E.164 form, ``WITHHELD`` for
        a withheld caller ID, or False for what is neither."""
        if is_withheld(phone_number):
            return WITHHELD
        return possible_e164(phone_number, company.country_id.code)

    @api.model
    def is_blocked(self, phone_number, company=None):
        """Whether ``phone_number`` is on the block list of ``company`` (default: the current one).

        Called by the voice webhook on every incoming call and by the softphone before every
        outgoing one: one query on the (company_id, phone_number) unique index, no access rules
        (callers are anonymous there). A withheld caller ID (Twilio's ``anonymous``,
        ``+266696687``...) is blocked when the list has the "Caller ID withheld" entry.
        """
        company = company or self.env.company
        e164 = self._block_key(phone_number, company)
        if not e164:
            return False
        self.env.cr.execute(
            "SELECT 1 FROM telephony_blocked_number WHERE company_id = %s AND phone_number = %s LIMIT 1",
            (company.id, e164))
        return bool(self.env.cr.rowcount)

    @api.model
    def _check_outbound_destination(self, phone_number, company=None):
        """The E.164 form of ``phone_number`` if it may be called from ``company``.

        :raise odoo.exceptions.UserError: the number cannot be dialled, is in China (N6:
            always refused) or is on the block list.
        """
        company = company or self.env.company
        e164 = to_e164(phone_number, company.country_id.code, raise_exception=False)
        if not e164:
            raise UserError(_(
                "%(number)s is not a phone number that can be called. Check it and type it in "
                "international format, e.g. +14155552671.", number=phone_number))
        if country_prefix(e164) in FORBIDDEN_DESTINATION_PREFIXES:
            raise UserError(_(
                "Calls to China (+86) are not allowed: %(number)s cannot be called. Reach this "
                "contact another way.", number=e164))
        if self.is_blocked(e164, company):
            raise UserError(_(
                "%(number)s is on the block list and cannot be called. An administrator can remove "
                "it in Telephony > Built-in Telephony > Telephony groups > Block list.",
                number=e164))
        return e164
