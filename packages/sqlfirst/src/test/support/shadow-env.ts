/**
 * The tests put their shadow databases on the target's server (the run's shared
 * test server) rather than on a local server per project folder, which would
 * initialise a server for every temporary project. The default — a local
 * throwaway server — has tests of its own (shadow-server.test.ts), which
 * clear this variable for their runs.
 */
process.env.SQLFIRST_SHADOW ??= 'target';
