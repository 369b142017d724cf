"""A script as a third party would write it, with the client openapi-python-client generates from
openapi/openapi.json: register, create a group, send (201), resend the same client_id (200), read the history,
and get typed ErrorBody answers for a wrong password and an invalid send.

usage: python_client_smoke.py BASE_URL   (the generated package `chat_server_client` must be importable)
"""
import secrets
import sys

from chat_server_client import AuthenticatedClient, Client
from chat_server_client.api.auth import login, register
from chat_server_client.api.conversations import create_conversation
from chat_server_client.api.messages import list_messages, send_message
from chat_server_client.models import (
    Conversation,
    CreateGroupRequest,
    CreateGroupRequestKind,
    ErrorBody,
    LoginRequest,
    Message,
    MessagePage,
    RegisterRequest,
    SendMessageRequest,
    Session,
)

checks = 0


def check(condition, what, response):
    global checks
    if not condition:
        print(f"FAILED: {what}: {response.status_code} {response.content[:500]!r}", file=sys.stderr)
        sys.exit(1)
    checks += 1
    print(f"ok: {what}")


def main(base_url):
    username = f"py_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    # Undocumented statuses raise: the spec must name every answer the script meets.
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)

    signed_up = register.sync_detailed(client=anonymous, body=RegisterRequest(username=username, password=password))
    check(signed_up.status_code == 201 and isinstance(signed_up.parsed, Session), "register: 201 Session", signed_up)
    api = AuthenticatedClient(
        base_url=base_url, token=signed_up.parsed.access_token, raise_on_unexpected_status=True
    )

    group = create_conversation.sync_detailed(
        client=api, body=CreateGroupRequest(kind=CreateGroupRequestKind.GROUP, title="Python smoke")
    )
    check(group.status_code == 201 and isinstance(group.parsed, Conversation), "create group: 201", group)
    conversation_id = group.parsed.id

    message = SendMessageRequest(client_id="py-smoke-1", body="hello from python")
    sent = send_message.sync_detailed(conversation_id, client=api, body=message)
    check(sent.status_code == 201 and isinstance(sent.parsed, Message), "send: 201 Message", sent)
    resent = send_message.sync_detailed(conversation_id, client=api, body=message)
    check(
        resent.status_code == 200 and isinstance(resent.parsed, Message) and resent.parsed.id == sent.parsed.id,
        "resend of the same client_id: 200 with the original",
        resent,
    )

    history = list_messages.sync_detailed(conversation_id, client=api, limit=10)
    check(history.status_code == 200 and isinstance(history.parsed, MessagePage), "history: 200 MessagePage", history)
    bodies = [m.body for m in history.parsed.messages if m.event is None]
    check(bodies == ["hello from python"], "history holds the message once", history)

    wrong = login.sync_detailed(client=anonymous, body=LoginRequest(username=username, password="not-" + password))
    check(
        wrong.status_code == 401 and isinstance(wrong.parsed, ErrorBody) and wrong.parsed.error.code == "invalid_credentials",
        "wrong password: 401 ErrorBody invalid_credentials",
        wrong,
    )
    invalid = send_message.sync_detailed(
        conversation_id, client=api, body=SendMessageRequest(client_id="has space", body="x")
    )
    check(
        invalid.status_code == 422
        and isinstance(invalid.parsed, ErrorBody)
        and invalid.parsed.error.code == "validation_failed"
        and invalid.parsed.error.field == "client_id",
        "invalid client_id: 422 ErrorBody naming the field",
        invalid,
    )
    print(f"python client smoke: {checks} passed, 0 failed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1].rstrip("/"))
