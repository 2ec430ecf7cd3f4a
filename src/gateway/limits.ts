/** The gateway's limits and their defaults, in one place (config and tests read them from here). */
export const DEFAULT_LIMITS = {
  /** Largest frame accepted; a larger one closes the socket with 1009. */
  maxFrameBytes: 1024 * 1024,
  /** Requests in flight per connection before -32004. */
  maxInFlight: 128,
  /** Unsent bytes a client may leave queued before it is closed with 1013. */
  maxBacklogBytes: 8 * 1024 * 1024,
  /** Ping interval; a peer that misses one whole interval is dropped. */
  heartbeatMs: 30_000,
} as const;
