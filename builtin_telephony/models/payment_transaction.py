from odoo import _, api, fields, models


class PaymentTransaction(models.Model):
    """A payment buying telephony credits: the credits arrive when it is done (W2, W4)."""
    _inherit = 'payment.transaction'

    telephony_account_id = fields.Many2one('telephony.account', readonly=True, index='btree_not_null',
                                           ondelete='restrict')
    telephony_credits = fields.Float("Telephony credits", digits=(16, 2), readonly=True)
    telephony_kind = fields.Selection(
        [('purchase', "Credit purchase"), ('auto_recharge', "Auto-recharge")], readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        # A payment made on the payment page for a credit purchase: tie it to the purchase.
        for vals in vals_list:
            if not vals.get('telephony_account_id'):
                vals.update(self.env['telephony.credit.buy']._purchase_values_for_reference(
                    vals.get('reference'), vals.get('amount'), vals.get('currency_id')))
        return super().create(vals_list)

    def _post_process(self):
        """Put the credits of done payments in the wallet; report failed auto-recharges.

        ``add_credits`` is idempotent on the payment reference, so a payment notified or
        post-processed twice adds its credits once. Failed and cancelled payments add nothing.
        """
        super()._post_process()
        for tx in self.filtered('telephony_account_id'):
            account = tx.telephony_account_id.sudo()
            if tx.state == 'done':
                account.add_credits(
                    tx.telephony_credits, tx.reference, kind=tx.telephony_kind,
                    payment_transaction_id=tx.id, user_id=tx.create_uid.id,
                    description=_("Paid %(amount)s %(currency)s", amount=tx.amount,
                                  currency=tx.currency_id.name))
            elif tx.state in ('error', 'cancel') and tx.telephony_kind == 'auto_recharge':
                account._notify_auto_recharge_failure(
                    tx.reference, tx.state_message or _("the payment was declined"))
