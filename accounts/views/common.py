from django.core.exceptions import PermissionDenied
from django.http import Http404

from .. import selectors
from ..models import Account
from ..permissions import account_writable


def get_account_or_404(account_id: int) -> Account:
    try:
        return selectors.account_get(account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account") from None


def require_writable(request, account: Account, action: str) -> None:
    if not account_writable(request.membership, account, action):
        raise PermissionDenied("Only the account's CSM, their manager and ops can change this account.")
