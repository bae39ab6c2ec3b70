from . import telephony_number_buy
from . import telephony_flow_transfer
