/** Connect, gRPC and gRPC-Web clients from @connectrpc/connect-node, all aimed at one port. */
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";

export type DeviceAuthClient = Client<typeof DeviceAuthService>;

/** Every transport the server must answer, by name. */
export function deviceAuthClients(
  baseUrl: string,
  interceptors: Interceptor[] = [],
): Record<string, DeviceAuthClient> {
  return {
    "Connect over HTTP/1.1": createClient(
      DeviceAuthService,
      createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }),
    ),
    "Connect over h2c": createClient(
      DeviceAuthService,
      createConnectTransport({ baseUrl, httpVersion: "2", interceptors }),
    ),
    "gRPC over h2c": createClient(
      DeviceAuthService,
      createGrpcTransport({ baseUrl, interceptors }),
    ),
    "gRPC-Web over HTTP/1.1": createClient(
      DeviceAuthService,
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
    ),
  };
}

/** Adds the service credential to every call. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
