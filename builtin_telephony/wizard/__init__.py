from . import telephony_number_buy
from . import telephony_flow_transfer
from . import telephony_credit_buy
from . import telephony_storage_plan_change
from . import telephony_sandbox_call_wizard
