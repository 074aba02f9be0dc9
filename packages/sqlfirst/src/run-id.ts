/**
 * Who this run is, to the servers it talks to. Process ids repeat across pid
 * namespaces (containers) and hosts, so a run is known by a random id: its
 * sessions' application_name and its shadow databases carry it, and nothing
 * of another run's is ever mistaken for this run's.
 */
import { randomBytes } from 'node:crypto';

export const RUN_ID = randomBytes(4).toString('hex');

/** every session this run opens; the pid is there for people reading pg_stat_activity */
export const APPLICATION_NAME = `sqlfirst:${process.pid}:${RUN_ID}`;
