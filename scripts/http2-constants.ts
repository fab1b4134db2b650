// What undici's HTTP/2 client reads of node:http2 when it is loaded, given to it by the undici bundle.

/**
 * What undici's HTTP/2 client reads of node:http2 when it is loaded. Loading node:http2 (and the tls
 * and internal modules it takes) cost an update's start 18-30 ms of CPU here, and the transports
 * never allow HTTP/2 (`allowH2` stays false), so undici never calls `http2.connect`: the bundle
 * (bundle.ts) holds these constants instead and loads node:http2 only if `connect` is called
 * after all. test/tuning/undici-bundle.test.ts checks them against node:http2's own.
 */
export const HTTP2_CONSTANTS: Readonly<Record<string, string | number>> = {
  HTTP2_HEADER_AUTHORITY: ':authority',
  HTTP2_HEADER_METHOD: ':method',
  HTTP2_HEADER_PATH: ':path',
  HTTP2_HEADER_SCHEME: ':scheme',
  HTTP2_HEADER_CONTENT_LENGTH: 'content-length',
  HTTP2_HEADER_EXPECT: 'expect',
  HTTP2_HEADER_STATUS: ':status',
  HTTP2_HEADER_PROTOCOL: ':protocol',
  NGHTTP2_REFUSED_STREAM: 7,
  NGHTTP2_CANCEL: 8,
};
