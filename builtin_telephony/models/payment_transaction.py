import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round
from odoo.tools.misc import formatLang

_logger = logging.getLogger(__name__)

# The reference prefix of a credit purchase (telephony.credit.buy.payment_reference).
CREDIT_PURCHASE_PREFIX = 'TELCR-'


class PaymentTransaction(models.Model):
    """A payment buying telephony credits: the credits arrive when it is done (W2, W4).

    The purchase is tied to its payment when the payment is created, by the values the telephony
    routes give (``custom_create_values`` of the payment page's transaction route, or the saved
    payment method's and auto-recharge's own creation): what was quoted is what is credited, however
    long the payer takes. Credits come once per payment transaction; its refunds take them back.
    """
    _inherit = 'payment.transaction'

    telephony_account_id = fields.Many2one('telephony.account', readonly=True, index='btree_not_null',
                                           ondelete='restrict')
    telephony_credits = fields.Float("Telephony credits", digits=(16, 2), readonly=True)
    telephony_kind = fields.Selection(
        [('purchase', "Credit purchase"), ('auto_recharge', "Auto-recharge")], readonly=True)

    def _telephony_charge_token(self, commit):
        """Ask the provider for the money of this new token payment (a credit purchase or an
        auto-recharge), then credit it if it is final. With ``commit``, the transaction is
        committed first: a pending payment (bank debit, 3-D Secure) then survives whatever happens
        to the request, and a retried request finds it instead of paying again."""
        self.ensure_one()
        if commit:
            self.env.cr.commit()
        try:
            self._send_payment_request()
        except UserError as error:
            self._set_error(str(error))
        if self.state in ('done', 'error', 'cancel') and not self.is_post_processed:
            self._post_process()

    def _post_process(self):
        """Put the credits of done payments in the wallet, take refunded ones back, report failed
        auto-recharges.

        A payment adds its credits once whatever the number of notifications, post-processings or
        the kind it claims (one ledger line per payment transaction); failed and cancelled payments
        add nothing. A done payment whose reference says "credit purchase" but which is tied to no
        account is logged: someone paid and got nothing.
        """
        super()._post_process()
        Transaction = self.env['telephony.wallet.transaction'].sudo()
        credited = set(Transaction.search([('payment_transaction_id', 'in', self.ids)]).payment_transaction_id.ids)
        for tx in self:
            account = tx.telephony_account_id.sudo()
            if account:
                if tx.state == 'done' and tx.id not in credited:
                    account._add_credits(
                        tx.telephony_credits, tx.reference, kind=tx.telephony_kind,
                        payment_transaction_id=tx.id, user_id=tx.create_uid.id,
                        description=_("Paid %(amount)s %(currency)s",
                                      amount=formatLang(self.env, tx.amount, digits=tx.currency_id.decimal_places),
                                      currency=tx.currency_id.name))
                elif tx.state in ('error', 'cancel') and tx.telephony_kind == 'auto_recharge':
                    account._notify_auto_recharge_failure(
                        tx.reference, tx.state_message or _("the payment was declined"))
            elif tx.operation == 'refund' and tx.source_transaction_id.telephony_account_id:
                if tx.state == 'done' and tx.id not in credited:
                    tx._telephony_take_back_refunded_credits()
            elif tx.state == 'done' and (tx.reference or '').startswith(CREDIT_PURCHASE_PREFIX):
                _logger.error(
                    "Payment %s (%s %s) looks like a telephony credit purchase but is tied to no "
                    "telephony account: no credits were added. Add them by hand after checking it.",
                    tx.reference, tx.amount, tx.currency_id.name)

    def _telephony_take_back_refunded_credits(self):
        """A refund (made from Odoo or notified by the provider) of a credit payment takes back
        the credits it paid for, in proportion to the amount refunded."""
        self.ensure_one()
        source = self.source_transaction_id
        account = source.telephony_account_id.sudo()
        if not source.amount:
            return
        share = min(abs(self.amount) / source.amount, 1.0)
        credits = float_round(source.telephony_credits * share, precision_digits=2)
        if credits <= 0:
            return
        self.env['telephony.wallet.transaction']._record(
            account, source.telephony_kind or 'purchase', -credits, self.reference,
            payment_transaction_id=self.id, user_id=self.create_uid.id,
            description=_("Refunded %(amount)s %(currency)s of %(reference)s",
                          amount=formatLang(self.env, abs(self.amount), digits=self.currency_id.decimal_places),
                          currency=self.currency_id.name, reference=source.reference))
        _logger.info("Telephony account %s: %s credits taken back for refund %s of %s",
                     account.id, credits, self.reference, source.reference)

    @api.model
    def _telephony_pending_domain(self, account):
        """Payments of ``account`` whose money may be taken but whose credits have not arrived:
        pending or authorized ones, and saved-method payments sent but not answered yet (a payment
        page the buyer left leaves a draft of another operation, which is not listed)."""
        return [('telephony_account_id', '=', account.id), '|', ('state', 'in', ('pending', 'authorized')),
                '&', ('state', '=', 'draft'), ('operation', '=', 'offline')]
