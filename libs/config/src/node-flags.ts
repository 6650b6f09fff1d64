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
 *
 * Garbage is collected on the service's own thread. V8's helper threads (four per process) only help
 * while cores sit idle, and a service shares its cores: with the broker, the database and the other
 * services on one machine, or with a pod's half-core request. In the pipeline benchmark the helpers
 * of the three busy services took a seventh of the two cores; collected in line, the services spent
 * 4 % less CPU in all (four runs each, taken in turn), for 10 to 20 MB more peak resident size.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-old-space-size=192', '--heap-growing-percent=200', '--single-threaded-gc'];
