from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from ..tools.phone import format_international


class TelephonyNumberBuy(models.TransientModel):
    """Buy a number: search, pick, read the purchase summary, confirm (N1, N2)."""
    _name = 'telephony.number.buy'
    _description = "Buy a Phone Number"

    account_id = fields.Many2one(
        'telephony.account', required=True, ondelete='cascade',
        default=lambda self: self.env['telephony.account']._get_for_company())
    step = fields.Selection(
        [('search', "Search"), ('summary', "Purchase summary"), ('confirm', "Confirmation")],
        required=True, default='search')
    country_id = fields.Many2one(
        'res.country', required=True,
        default=lambda self: self.env.company.country_id or self.env.ref('base.us'))
    offered_type_ids = fields.Many2many('telephony.number.type', compute='_compute_offered_type_ids')
    number_type_id = fields.Many2one(
        'telephony.number.type', string="Number type",
        domain="[('id', 'in', offered_type_ids)]",
        compute='_compute_number_type_id', store=True, readonly=False)
    region = fields.Char(
        "Region or area code",
        help="A state or province code (e.g. CA), or an area code (e.g. 415). Leave empty to "
             "see numbers anywhere in the country.")
    contains = fields.Char("Number contains", help="Digits the number should contain, e.g. 555.")
    line_ids = fields.One2many('telephony.number.buy.line', 'wizard_id')
    line_id = fields.Many2one(
        'telephony.number.buy.line', string="Available phone numbers",
        domain="[('wizard_id', '=', id)]")

    phone_number = fields.Char(related='line_id.phone_number')
    phone_number_display = fields.Char("Phone number", related='line_id.phone_number_display')
    address_requirements = fields.Selection(related='line_id.address_requirements')
    address_partner_id = fields.Many2one(
        'res.partner', string="Registered address",
        default=lambda self: self.env.company.partner_id,
        help="This number is sold only to a customer with an address on file at the provider.")
    monthly_price = fields.Float(related='line_id.monthly_price', string="Credits per month")
    currency_id = fields.Many2one(related='account_id.currency_id')
    monthly_price_company = fields.Monetary(
        "Monthly price", compute='_compute_monthly_price_company', currency_field='currency_id')
    balance = fields.Float(related='account_id.balance')

    @api.depends('country_id', 'account_id')
    def _compute_offered_type_ids(self):
        types = self.env['telephony.number.type'].search([])
        for wizard in self:
            if wizard.country_id and wizard.account_id:
                codes = wizard.account_id.available_number_types(wizard.country_id.code)
                wizard.offered_type_ids = types.filtered(lambda t: t.code in codes)
            else:
                wizard.offered_type_ids = types

    @api.depends('offered_type_ids')
    def _compute_number_type_id(self):
        for wizard in self:
            if wizard.number_type_id not in wizard.offered_type_ids:
                wizard.number_type_id = wizard.offered_type_ids[:1]

    @api.depends('monthly_price', 'currency_id')
    def _compute_monthly_price_company(self):
        usd = self.env.ref('base.USD')
        for wizard in self:
            wizard.monthly_price_company = usd._convert(
                wizard.monthly_price, wizard.currency_id or usd, wizard.account_id.company_id,
                fields.Date.context_today(wizard))

    @api.onchange('country_id', 'number_type_id', 'region', 'contains')
    def _onchange_search_criteria(self):
        # Results of another search would be misleading.
        self.line_id = False

    def _reopen(self):
        return {
            'type': 'ir.actions.act_window',
            'res_model': self._name,
            'res_id': self.id,
            'view_mode': 'form',
            'target': 'new',
            'name': _("Buy a number"),
            'context': self.env.context,
        }

    def action_search(self):
        self.ensure_one()
        if not self.number_type_id:
            raise UserError(_("%s offers no phone numbers here; choose another country.",
                              self.country_id.name))
        found = self.account_id.search_available_numbers(
            self.country_id.code, self.number_type_id.code, region=self.region, contains=self.contains)
        self.line_ids = [fields.Command.clear()] + [
            fields.Command.create({
                'phone_number': number['phone_number'],
                'region': number.get('region') or '',
                'locality': number.get('locality') or '',
                'address_requirements': number.get('address_requirements') or 'none',
                'monthly_price': number['monthly_price'],
            }) for number in found]
        self.line_id = self.line_ids[:1]
        if not found:
            raise UserError(_("No numbers match this search. Try another region or area code, "
                              "or remove the digits the number should contain."))
        return self._reopen()

    def action_next(self):
        self.ensure_one()
        if not self.line_id or self.line_id.wizard_id != self:
            raise UserError(_("Choose one of the available numbers first."))
        self.step = 'summary'
        return self._reopen()

    def action_continue(self):
        self.ensure_one()
        if self.address_requirements != 'none':
            if not self.address_partner_id:
                raise UserError(_("This number needs an address on file: choose one."))
            if self.address_requirements == 'local' and self.address_partner_id.country_id != self.country_id:
                raise UserError(_("This number needs an address in %s: choose one there.", self.country_id.name))
            if self.address_requirements == 'foreign' and self.address_partner_id.country_id == self.country_id:
                raise UserError(_("This number needs an address outside %s: choose another one.",
                                  self.country_id.name))
        self.step = 'confirm'
        return self._reopen()

    def action_back(self):
        self.ensure_one()
        self.step = {'confirm': 'summary', 'summary': 'search'}.get(self.step, 'search')
        return self._reopen()

    def action_buy(self):
        self.ensure_one()
        address = self.address_requirements != 'none' and self.address_partner_id or None
        number = self.env['telephony.number'].browse(self.account_id.buy_number(
            self.line_id.phone_number, self.country_id.code, self.number_type_id.code,
            address_partner=address))
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'title': _("Number purchased"),
                'message': _("%s is yours. Associate it with a call flow to answer its calls.",
                             number.display_name),
                'next': {'type': 'ir.actions.act_window_close', 'infos': {'number_id': number.id}},
            },
        }


class TelephonyNumberBuyLine(models.TransientModel):
    _name = 'telephony.number.buy.line'
    _description = "Available Phone Number"
    _order = 'id'

    wizard_id = fields.Many2one('telephony.number.buy', required=True, ondelete='cascade')
    phone_number = fields.Char(required=True)
    region = fields.Char()
    locality = fields.Char()
    monthly_price = fields.Float(digits=(16, 2))
    address_requirements = fields.Selection(
        [('none', "None"), ('any', "An address anywhere"), ('local', "An address in the country"),
         ('foreign', "An address outside the country")], default='none', required=True)

    phone_number_display = fields.Char("Number", compute='_compute_phone_number_display')

    @api.depends('phone_number')
    def _compute_phone_number_display(self):
        for line in self:
            line.phone_number_display = format_international(line.phone_number)

    def action_choose(self):
        """The "Choose" button of a search result: on to the purchase summary with it."""
        self.ensure_one()
        self.wizard_id.line_id = self
        return self.wizard_id.action_next()

    @api.depends('phone_number', 'region', 'locality', 'monthly_price')
    def _compute_display_name(self):
        for line in self:
            place = ', '.join(part for part in (line.locality, line.region) if part)
            number = format_international(line.phone_number)
            if place:
                number = '%s (%s)' % (number, place)
            line.display_name = _("%(number)s — %(price)s credits/month",
                                  number=number, price=formatLang(self.env, line.monthly_price))
