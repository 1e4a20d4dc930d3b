// index — the package's public surface: createClient, the hint helpers for
// use without a client, and the types.
// Never: exports internals (transports, the subscription table).
export { createClient } from './client.js';
export { applyHints, channelQueryKeys } from './hints.js';
export { SSE_EVENTS } from './sse_transport.js';
export { SwitchboardError } from './transport.js';
export type * from './types.js';
