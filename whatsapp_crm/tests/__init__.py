from . import test_webhook_security
from . import test_inbound_messages
from . import test_inbound_matching
from . import test_statuses
from . import test_events
from . import test_accounts
from . import test_multicompany
from . import test_media
