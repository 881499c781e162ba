"""A Python gRPC client of handoff, generated from proto/ at test time.

Runs the device flow against a live server and prints one JSON object per
step, for test/polyglot/python-client.test.ts to check. Errors are decoded
from the grpc-status-details-bin trailer into handoff.v1.OAuthError, the way
any gRPC client in any language reads them: by the typed code, never by text.

usage: device_flow.py <generated-dir> <host:port> <service-token>
"""
import json
import sys
import time

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from google.rpc import status_pb2  # noqa: E402
from handoff.v1 import device_auth_pb2 as pb  # noqa: E402
from handoff.v1 import device_auth_pb2_grpc as pb_grpc  # noqa: E402

TARGET = sys.argv[2]
SERVICE = [("authorization", "Bearer " + sys.argv[3])]
CLIENT = "public-cli"


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def oauth_error(err):
    """The OAuthError detail of a failed call, or None."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(pb.OAuthError.DESCRIPTOR):
                    out = pb.OAuthError()
                    detail.Unpack(out)
                    return out
    return None


def failure(err):
    detail = oauth_error(err)
    return {
        "grpc_code": err.code().name,
        "error_code": pb.ErrorCode.Name(detail.code) if detail else None,
        "error": detail.error if detail else None,
        "interval": detail.interval if detail else None,
    }


def approve(stub, user_code, decision=pb.DECISION_APPROVE):
    stub.Approve(
        pb.ApproveRequest(user_code=user_code, subject="py-alice", decision=decision),
        metadata=SERVICE,
    )


def poll_flow(stub):
    auth = stub.Authorize(pb.AuthorizeRequest(client_id=CLIENT, scopes=["read"]))
    emit("authorized", user_code=auth.user_code, interval=auth.interval)
    try:
        stub.PollToken(pb.PollTokenRequest(client_id=CLIENT, device_code=auth.device_code))
        emit("pending", unexpected="a token before approval")
    except grpc.RpcError as err:
        emit("pending", **failure(err))
    approve(stub, auth.user_code)
    time.sleep(auth.interval)
    token = stub.PollToken(pb.PollTokenRequest(client_id=CLIENT, device_code=auth.device_code))
    emit("token", token_type=token.token_type, access_token=token.access_token, scope=token.scope)
    try:
        stub.PollToken(pb.PollTokenRequest(client_id=CLIENT, device_code=auth.device_code))
        emit("spent", unexpected="a second token")
    except grpc.RpcError as err:
        emit("spent", **failure(err))


def wait_flow(stub, decision):
    auth = stub.Authorize(pb.AuthorizeRequest(client_id=CLIENT))
    stream = stub.WaitToken(pb.WaitTokenRequest(client_id=CLIENT, device_code=auth.device_code))
    events = []
    try:
        for message in stream:
            kind = message.WhichOneof("event")
            events.append(kind)
            if kind == "heartbeat" and len(events) == 1:
                # The stream is open and waiting: now the person decides.
                approve(stub, auth.user_code, decision)
            if kind == "token":
                emit("stream-token", events=events, token_type=message.token.token_type,
                     access_token=message.token.access_token)
        emit("stream-end", events=events)
    except grpc.RpcError as err:
        emit("stream-error", events=events, **failure(err))


def main():
    with grpc.insecure_channel(TARGET) as channel:
        stub = pb_grpc.DeviceAuthServiceStub(channel)
        poll_flow(stub)
        wait_flow(stub, pb.DECISION_APPROVE)
        wait_flow(stub, pb.DECISION_DENY)
        try:
            stub.Authorize(pb.AuthorizeRequest(client_id="no-such-client"))
        except grpc.RpcError as err:
            emit("unknown-client", **failure(err))


main()
