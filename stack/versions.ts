/**
 * The stack's pinned versions, ports and settings: one place, read by the stack (stack/*.ts) and
 * by the test that checks docker-compose.yml names the same (test/unit/stack/compose.test.ts).
 * Plain constants: no I/O, so the compose test loads nothing else of the stack.
 */

/**
 * The official Temporal server, built from its Go module. 1.32.1, not the newer 1.32.2: 1.32.2's
 * go.mod asks for Go 1.26.10 and this machine has 1.26.8 (GOTOOLCHAIN=local refuses to fetch a
 * toolchain); 1.32.1 asks for exactly 1.26.8.
 */
export const TEMPORAL_SERVER_VERSION = '1.32.1';
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';

/** Debian 12's PostgreSQL (the docker image's major version is the same). */
export const POSTGRES_MAJOR = 15;

/** Loopback ports of the stack: apart from the lab's (Temporal 7233, Placement 8778). */
export const STACK_PORTS = {
  postgres: 15432,
  /** The frontend's gRPC port: what workers and clients dial (mTLS). */
  frontend: 17233,
  frontendHttp: 17243,
  history: 17234,
  matching: 17235,
  worker: 17239,
  frontendMembership: 17933,
  historyMembership: 17934,
  matchingMembership: 17935,
  workerMembership: 17939,
} as const;

/** The namespace ferry runs in on the stack (Temporal's default, created by the stack). */
export const STACK_NAMESPACE = 'default';
/** How many ferry workers the stack runs. */
export const STACK_WORKERS = 2;

/** Database names and user of the stack's PostgreSQL (the password is generated per stack). */
export const STACK_DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;
export const STACK_DB_USER = 'temporal';

/** The server certificate's names: what clients verify (TEMPORAL_TLS_SERVER_NAME). */
export const STACK_TLS_SERVER_NAME = 'localhost';

/** The stack's own Placement (Debian's placement-api, noauth2), apart from the lab's 8778. */
export const STACK_PLACEMENT_PORT = 18778;
/** The task queue of the stack's workers (ferry's default). */
export const STACK_TASK_QUEUE = 'ferry';
