from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = 'ir.http'

    def session_info(self):
        """Tell the web client whether to start the softphone, without a request of its own
        (``static/src/softphone/softphone_service.js``)."""
        result = super().session_info()
        user = self.env.user
        result['builtin_telephony_softphone'] = bool(
            user._is_internal()
            and user.has_group('builtin_telephony.group_telephony_user')
            and user._telephony_user())
        return result
