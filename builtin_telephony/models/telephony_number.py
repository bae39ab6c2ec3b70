import logging

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import formatLang

from .. import const
from ..tools.phone import format_international
from ..tools.provider_errors import NO_ANSWER, NUMBER_UNAVAILABLE, TelephonyProviderError

_logger = logging.getLogger(__name__)

# What the provider and the purchase set: shown read-only, refused to anyone but the add-on.
PROVIDER_FIELDS = {'phone_number', 'account_id', 'country_id', 'number_type', 'monthly_price',
                   'provider_sid', 'purchase_date', 'paid_until'}


class TelephonyNumber(models.Model):
    """A phone number bought from the provider; its incoming calls run its call flow."""
    _name = 'telephony.number'
    _description = "Phone Number"
    _order = 'phone_number'
    _rec_name = 'phone_number'
    _check_company_auto = True

    phone_number = fields.Char("Number", required=True, readonly=True, index=True,
                               help="In E.164 form, e.g. +14155550100.")
    account_id = fields.Many2one('telephony.account', required=True, readonly=True,
                                 ondelete='cascade', index=True)
    company_id = fields.Many2one(related='account_id.company_id', store=True, index=True)
    country_id = fields.Many2one('res.country', required=True, readonly=True)
    number_type = fields.Selection(const.NUMBER_TYPES, required=True, readonly=True)
    monthly_price = fields.Float("Credits per month", digits=(16, 2), readonly=True)
    provider_sid = fields.Char("Provider ID", readonly=True, copy=False, index=True)
    purchase_date = fields.Date(readonly=True, default=fields.Date.context_today)
    paid_until = fields.Date(
        readonly=True, copy=False,
        help="The next monthly anniversary of the purchase: the day the next month is charged.")
    flow_id = fields.Many2one(
        'telephony.flow', string="Call flow", index=True, ondelete='set null', check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="The call flow that answers incoming calls on this number. A number without a "
             "published, enabled flow rejects incoming calls.")

    _sql_constraints = [
        ('phone_number_uniq', 'unique(phone_number)', "This number is already in use."),
    ]

    @api.depends('phone_number')
    def _compute_display_name(self):
        for number in self:
            number.display_name = format_international(number.phone_number)

    # ------------------------------------------------------------------------------------------
    # Search and purchase at the provider (telephony.account.search_available_numbers and
    # buy_number, the public entry points, hand over to these)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _search_available(self, account, country_code, number_type, region=None, contains=None,
                          limit=20):
        """Numbers ``account`` can buy now, each with its monthly price in credits."""
        account.check_access('write')
        country_code = country_code.upper()
        with account._provider() as gateway:
            found = gateway.search_numbers(country_code, number_type, region=region or None,
                                           contains=contains or None, limit=limit)
        country = self.env['res.country'].search([('code', '=', country_code)], limit=1)
        price = self.env['telephony.number.price']._get_monthly_price(country, number_type)
        return [dict(number, monthly_price=price) for number in found]

    @api.model
    def _buy(self, account, phone_number, country_code, number_type, address_partner=None):
        """Buy ``phone_number`` at the provider and point it at this database.

        Its first month is charged at once; the credits must pay for it. Should the number not be
        recorded here once the provider sold it, it is released again: nothing is half-made, and
        nothing keeps costing money unseen.

        :param address_partner: the ``res.partner`` whose address is registered at the provider,
            for the numbers sold only to customers with an address on file (see the
            ``address_requirements`` of ``search_available_numbers``)
        :return: the new ``telephony.number``
        """
        account.check_access('write')
        country = self.env['res.country'].search([('code', '=', country_code.upper())], limit=1)
        if not country:
            raise UserError(_("Unknown country code %s.", country_code))
        values = {
            'account_id': account.id,
            'country_id': country.id,
            'number_type': number_type,
            'monthly_price': self.env['telephony.number.price']._get_monthly_price(country, number_type),
        }
        self._check_can_buy(account, values)
        address_sid = address_partner and self._register_address(account, address_partner)
        with account._provider() as gateway:
            try:
                purchased = gateway.buy_number(
                    phone_number, voice_url=account._webhook_url(const.VOICE_ROUTE),
                    status_callback=account._webhook_url(const.STATUS_ROUTE),
                    friendly_name=account.company_id.name, address_sid=address_sid or None)
            except TelephonyProviderError as error:
                # No answer (the purchase may have gone through), or "not available" (a retried
                # request: ours already?): the provider says whether the number is ours now.
                if not any(error.template is template for template in (NO_ANSWER, NUMBER_UNAVAILABLE)):
                    raise
                purchased = gateway.find_number(phone_number)
                if not purchased or purchased.get('phone_number') != phone_number:
                    raise
                _logger.warning("Purchase of %s reconciled with the provider after: %s", phone_number, error)
        try:
            with self.env.cr.savepoint():
                number = self.create(dict(
                    values, phone_number=purchased['phone_number'], provider_sid=purchased['sid']))
                number._after_purchase()
        except Exception:
            try:
                account._get_gateway().release_number(purchased['sid'])
            except TelephonyProviderError:
                _logger.exception("Could not release %s after a failed purchase", phone_number)
            raise
        account.message_post(body=_("Phone number %(number)s bought (%(price)s credits per month).",
                                    number=number.display_name,
                                    price=formatLang(self.env, number.monthly_price)))
        return number

    @api.model
    def _register_address(self, account, partner):
        """Register ``partner``'s address at the provider; returns the provider's address id."""
        missing = [label for label, value in ((_("street"), partner.street), (_("city"), partner.city),
                                              (_("ZIP"), partner.zip), (_("country"), partner.country_id))
                   if not value]
        if missing:
            raise UserError(_("Complete the address of %(partner)s (%(missing)s missing), then buy the number again.",
                              partner=partner.display_name, missing=", ".join(missing)))
        with account._provider() as gateway:
            return gateway.create_address(
                partner.commercial_company_name or partner.name, partner.street, partner.city,
                partner.state_id.code or partner.city, partner.zip, partner.country_id.code)

    @api.model
    def _check_can_buy(self, account, values):
        """Refuse to buy a number whose first month the credits cannot pay."""
        price = values.get('monthly_price') or 0.0
        available = account._get_balance() + account.overdraft_limit
        if price > available + 1e-9:
            raise UserError(_(
                "This number costs %(price)s credits for its first month, and %(available)s "
                "credits are available. Buy credits on the Plan details tab, then buy the number.",
                price=formatLang(self.env, price),
                available=formatLang(self.env, max(available, 0.0))))
        return True

    # ------------------------------------------------------------------------------------------
    # Monthly charges and release
    # ------------------------------------------------------------------------------------------

    def _after_purchase(self):
        """Charge the first month as soon as the number is bought (N2)."""
        for number in self:
            number._charge_month()
        return True

    def _charge_month(self):
        """Charge the month starting at ``paid_until`` (the purchase date for the first one).

        Months run from the purchase date's anniversary (bought on the 31st: the 28th/29th of
        February, then the 31st of March). The reference names the number and the month's first
        day, so the same month is never charged twice, however often the cron runs.
        """
        self.ensure_one()
        purchase_date = self.purchase_date or fields.Date.context_today(self)
        start = self.paid_until or purchase_date
        self.account_id._charge(
            'number', self.monthly_price, 'number-%s-%s' % (self.id, start.isoformat()),
            number_id=self.id,
            description=_("%(number)s, month from %(start)s", number=self.display_name,
                          start=fields.Date.to_string(start)))
        # Counted from the purchase date, not from the previous month, so that a short month
        # does not move the anniversary for good (31 Jan → 29 Feb → 31 Mar).
        months = 1
        while purchase_date + relativedelta(months=months) <= start:
            months += 1
        self.sudo().paid_until = purchase_date + relativedelta(months=months)
        # A month is owed to the provider whatever the balance: it is charged even when the
        # credits have run out (the balance may go below zero, overdraft or not); calls are then
        # refused until credits arrive, and administrators are told (the page says so).
        account = self.account_id.sudo()
        if account._get_balance() <= 0:
            account._notify_credits_exhausted()

    @api.model
    def _cron_charge_monthly(self):
        """Charge every month that has begun for each number (all missed months included)."""
        today = fields.Date.context_today(self)
        # A number recorded without a purchase (imported, demo data) has no month paid yet.
        numbers = self.sudo().search(['|', ('paid_until', '=', False), ('paid_until', '<=', today)])
        for number in numbers:
            while not number.paid_until or number.paid_until <= today:
                number._charge_month()

    def write(self, vals):
        if not self.env.su and PROVIDER_FIELDS & set(vals):
            raise AccessError(_("%(fields)s of a phone number are set by its purchase: they cannot be changed.",
                                fields=', '.join(sorted(PROVIDER_FIELDS & set(vals)))))
        return super().write(vals)

    def action_release(self):
        """Release the numbers at the provider, then forget them (N4).

        Access is checked first: nothing is asked of the provider for a user who may not delete
        them (the database would roll back, the provider would not).
        """
        self.check_access('unlink')
        for number in self:
            with number.account_id._provider() as gateway:
                gateway.release_number(number.provider_sid)
            number.account_id.message_post(body=_("Phone number %s deleted and released.", number.display_name))
        self.unlink()
        return True

