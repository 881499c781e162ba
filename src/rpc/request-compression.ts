/**
 * The request encodings the RPC server accepts (gzip, br), with a body that
 * does not decompress blamed on the client. connect-node's own classes
 * (compression.js, wrapZLibErrors) say InvalidArgument only for zlib's
 * Z_DATA_ERROR and a few Brotli codes and Internal for the rest, such as a
 * gzip stream cut short (Z_BUF_ERROR); the bytes are the client's either way.
 * Classified by code, through connect-es's public `acceptCompression` option.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";

function blamingTheClient(inner: Compression): Compression {
  return {
    name: inner.name,
    compress: (bytes) => inner.compress(bytes),
    decompress: (bytes, readMaxBytes) =>
      inner.decompress(bytes, readMaxBytes).catch((e: unknown) => {
        if (e instanceof ConnectError && e.code === Code.Internal) {
          throw new ConnectError(
            e.rawMessage,
            Code.InvalidArgument,
            e.metadata,
            undefined,
            e.cause,
          );
        }
        throw e;
      }),
  };
}

/** For connectNodeAdapter's `acceptCompression` (connect-node's default order). */
export const REQUEST_COMPRESSION: readonly Compression[] = [
  blamingTheClient(compressionGzip),
  blamingTheClient(compressionBrotli),
];
