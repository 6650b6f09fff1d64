/**
 * The Node.js flags every Tandem service runs with (the Dockerfile's CMDs repeat them).
 *
 * The heap is capped as a deployment sizes a service, so each stays under 300 MB resident. Within that
 * cap the old generation may grow to three times what outlived the last full collection before the
 * next one. A service holds each batch across database and broker round trips, so much of what it
 * allocates is promoted; at V8's own factor on a heap this small (about 1.4), the reconciler ran a full
 * collection every 0.3 s under load, and the collections' concurrent marking took CPU from everything
 * else on the machine. In the pipeline benchmark the factor of three cut the services' CPU by a quarter
 * and raised the peak resident size from about 190 MB to about 240.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-old-space-size=192', '--heap-growing-percent=200'];
