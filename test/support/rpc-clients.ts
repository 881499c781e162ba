/** Connect, gRPC and gRPC-Web clients from @connectrpc/connect-node, all aimed at one port. */
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";

export type DeviceAuthClient = Client<typeof DeviceAuthService>;

/** Every transport the server must answer on its one port, by name. */
export function rpcTransports(
  baseUrl: string,
  interceptors: Interceptor[] = [],
): Record<string, Transport> {
  return {
    "Connect over HTTP/1.1": createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }),
    "Connect over h2c": createConnectTransport({ baseUrl, httpVersion: "2", interceptors }),
    "gRPC over h2c": createGrpcTransport({ baseUrl, interceptors }),
    "gRPC-Web over HTTP/1.1": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  };
}

/** A client of `service` over every transport, by transport name. */
export function rpcClients<S extends DescService>(
  service: S,
  baseUrl: string,
  interceptors: Interceptor[] = [],
): Record<string, Client<S>> {
  return Object.fromEntries(
    Object.entries(rpcTransports(baseUrl, interceptors)).map(([name, t]) => [
      name,
      createClient(service, t),
    ]),
  );
}

/** DeviceAuthService over every transport. */
export function deviceAuthClients(
  baseUrl: string,
  interceptors: Interceptor[] = [],
): Record<string, DeviceAuthClient> {
  return rpcClients(DeviceAuthService, baseUrl, interceptors);
}

/** Adds the service credential to every call. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
