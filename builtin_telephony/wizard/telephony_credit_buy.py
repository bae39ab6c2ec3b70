import secrets
import threading

from werkzeug.urls import url_encode

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import consteq, hmac as hmac_tool
from odoo.tools.misc import formatLang

MAX_CREDITS_PER_PURCHASE = 100_000


class TelephonyCreditBuy(models.TransientModel):
    """Buy credits: enter how many, see the price in the company currency, pay (W2).

    With a saved payment method of the company the payment is made at once; otherwise the
    buyer is sent to Odoo's payment page (``/payment/pay``) with any enabled provider, whose
    transaction route ties the payment to the purchase (``controllers/payment.py``). Either way
    the credits arrive when the payment transaction is done (``payment.transaction._post_process``).
    The wizard itself is transient: nothing depends on it once the payment exists.
    """
    _name = 'telephony.credit.buy'
    _description = "Buy Telephony Credits"

    account_id = fields.Many2one('telephony.account', required=True, readonly=True, ondelete='cascade',
                                 default=lambda self: self.env['telephony.account']._get_for_company())
    company_id = fields.Many2one(related='account_id.company_id')
    company_partner_id = fields.Many2one(related='company_id.partner_id')
    currency_id = fields.Many2one(related='account_id.currency_id')
    balance = fields.Float(related='account_id.balance')
    credits = fields.Float("Credits to buy", digits=(16, 2), required=True, default=50.0,
                           help="1 credit = 1 USD.")
    price = fields.Monetary("Price", compute='_compute_price', currency_field='currency_id')
    token_choice = fields.Selection(
        selection=lambda self: self.env['telephony.account']._selection_company_tokens(),
        string="Saved payment method",
        help="Pay now with a payment method the company saved. Empty: pay on the payment page.")
    payment_reference = fields.Char(
        readonly=True, copy=False, default=lambda self: 'TELCR-%s' % secrets.token_hex(6),
        help="Prefix of the reference of the payment; ties the payment to this purchase.")

    @api.depends('credits', 'account_id')
    def _compute_price(self):
        for wizard in self:
            wizard.price = wizard.account_id._credits_price(max(wizard.credits, 0.0)) if wizard.account_id else 0.0

    def _check_credits(self):
        self.ensure_one()
        self.account_id.check_access('write')
        if self.credits < 1:
            raise UserError(_("Enter at least 1 credit to buy."))
        if self.credits > MAX_CREDITS_PER_PURCHASE:
            raise UserError(_("Buy at most %s credits at a time; make several purchases for more.",
                              formatLang(self.env, MAX_CREDITS_PER_PURCHASE, digits=0)))

    def action_pay(self):
        """Pay with the saved payment method, or open the payment page."""
        self.ensure_one()
        self._check_credits()
        if self.token_choice:
            return self._pay_with_token()
        partner = self.company_id.partner_id
        credits = '%.2f' % self.credits
        amount = self.price
        params = {
            'reference': self.payment_reference,
            'amount': amount,
            'currency_id': self.currency_id.id,
            'partner_id': partner.id,
            'company_id': self.company_id.id,
            'access_token': self._payment_access_token(partner.id, amount, self.currency_id.id),
            # The purchase itself, signed with the price quoted now: the payment page's
            # transaction route ties the payment to it (custom_create_values), however long the
            # buyer takes and whatever the exchange rate has become (controllers/payment.py).
            'telephony_account_id': self.account_id.id,
            'telephony_credits': credits,
            'telephony_access_token': self._purchase_access_token(
                self.account_id.id, credits, amount, self.currency_id.id),
        }
        return {'type': 'ir.actions.act_url', 'url': '/payment/pay?' + url_encode(params), 'target': 'self'}

    def _payment_access_token(self, *values):
        # The token payment_utils.generate_access_token makes, from our environment rather than
        # from the HTTP request's, so that it is also made where there is no request (tests).
        return hmac_tool(self.env(su=True), 'generate_access_token', '|'.join(str(value) for value in values))

    @api.model
    def _purchase_access_token(self, account_id, credits, amount, currency_id):
        """The signature of a purchase: these credits for this account, at this price.

        (Not the partner: the payment page pays as the logged-in user's partner.)
        """
        values = (int(account_id), '%.2f' % float(credits), float(amount), int(currency_id))
        return hmac_tool(self.env(su=True), 'telephony_credit_purchase', '|'.join(map(str, values)))

    @api.model
    def _check_purchase(self, account_id, credits, access_token, amount, currency_id):
        """The ``payment.transaction`` values of a purchase signed by :meth:`_purchase_access_token`.

        :raise odoo.exceptions.AccessError: the signature does not match (tampered credits,
            amount, currency or account), or the user may not buy credits for the account
        """
        invalid = AccessError(_("This credit purchase link is not valid; start the purchase again."))
        try:
            expected = self._purchase_access_token(account_id, credits, amount, currency_id)
        except (TypeError, ValueError):
            raise invalid from None
        if not access_token or not consteq(expected, str(access_token)):
            raise invalid
        account = self.env['telephony.account'].browse(int(account_id)).exists()
        if not account:
            raise invalid
        account.check_access('write')
        return {'telephony_account_id': account.id, 'telephony_credits': round(float(credits), 2),
                'telephony_kind': 'purchase'}

    def _pay_with_token(self):
        """Pay now with a saved payment method of the company, once per purchase.

        The payment transaction is committed before the provider is asked for the money (as
        auto-recharge does): a pending payment (bank debit, 3-D Secure) survives whatever happens
        to this request, and a retried request finds it instead of paying again. Its reference is
        the purchase's, so that one purchase is one payment.
        """
        account = self.account_id.sudo()
        token = self.env['payment.token'].sudo().browse(int(self.token_choice))
        if token not in account._usable_payment_tokens(self.company_id):
            raise UserError(_("Choose one of the company's saved payment methods."))
        Payment = self.env['payment.transaction'].sudo()
        tx = Payment.search([('reference', '=', self.payment_reference)], limit=1)
        commit = not getattr(threading.current_thread(), 'testing', False)
        if not tx:
            tx = Payment.create(account._credit_payment_values(
                self.credits, 'purchase', provider=token.provider_id, partner=token.partner_id,
                payment_method=token.payment_method_id, token=token, operation='offline',
                reference=self.payment_reference))
            tx._telephony_charge_token(commit)
            if commit:
                # Keep what the provider answered, even if this request then fails.
                self.env.cr.commit()
        if tx.state == 'done':
            return self._notify(_("Credits bought"), 'success', _(
                "%(credits)s credits were added to your wallet.",
                credits=formatLang(self.env, tx.telephony_credits)))
        if tx.state in ('draft', 'pending', 'authorized'):
            return self._notify(_("Payment pending"), 'warning', _(
                "The payment of %(credits)s credits is waiting for the payment provider's "
                "confirmation: the credits arrive as soon as it is confirmed. It is listed under "
                "the available credits on the Plan details tab.",
                credits=formatLang(self.env, tx.telephony_credits)))
        raise UserError(_(
            "The payment of %(credits)s credits did not go through (%(state)s): %(reason)s "
            "Try another payment method, or leave it empty to pay on the payment page.",
            credits=formatLang(self.env, self.credits), state=tx._fields['state'].convert_to_export(tx.state, tx),
            reason=tx.state_message or ''))

    def _notify(self, title, kind, message):
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': kind,
                'title': title,
                'message': message,
                'sticky': kind != 'success',
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }
