/**
 * Preloaded with `node --import bench/maxrss.mjs ...`: at exit, writes the
 * process's own peak resident set size (kilobytes, children excluded) to the
 * file named by BENCH_MAXRSS_FILE.
 */
import fs from 'node:fs';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) {
  // children (drizzle-kit) must not overwrite the parent's figure
  delete process.env.BENCH_MAXRSS_FILE;
  process.on('exit', () => {
    try {
      fs.writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // the benchmark reports a missing figure
    }
  });
}
