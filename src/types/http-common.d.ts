/**
 * Node's own HTTP/1.1 parser binding (llhttp, native), exported by the `_http_common` builtin that
 * node:http's client and server use. Only the parts src/server/upstream-client.ts and the benchmark's
 * floor proxies (bench/support/floor-proxy.ts) use are declared.
 */
declare module '_http_common' {
  export class HTTPParser {
    static readonly REQUEST: number;
    static readonly RESPONSE: number;
    static readonly kOnMessageBegin: number;
    static readonly kOnHeaders: number;
    static readonly kOnHeadersComplete: number;
    static readonly kOnBody: number;
    static readonly kOnMessageComplete: number;
    /** `resource` is the async resource the callbacks run in; `lenient` 0 = strict parsing. */
    initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
    /** Bytes consumed, or the parse error (with an `HPE_*` code). */
    execute(data: Buffer): number | Error;
    /** Signals end of input: completes a body read until EOF, or reports a truncated message. */
    finish(): number | Error | undefined;
    [callback: number]: unknown;
  }
  /** Method names by llhttp's method number (as passed to kOnHeadersComplete). */
  export const methods: readonly string[];
}
