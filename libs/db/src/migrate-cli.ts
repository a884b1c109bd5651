// `npm run db:migrate [up|down] [count]`: applies the migrations to DATABASE_URL.
import { loadConfig, Type } from '@mailroom/config';
import { migrate } from './migrate.js';

const config = loadConfig(
  Type.Object({ DATABASE_URL: Type.String({ minLength: 1 }) }),
  process.env,
);
const [direction = 'up', count] = process.argv.slice(2);
if (direction !== 'up' && direction !== 'down') {
  console.error('usage: migrate-cli [up|down] [count]');
  process.exit(2);
}
const ran = await migrate({
  url: config.DATABASE_URL,
  direction,
  ...(count ? { count: Number(count) } : {}),
  log: (msg) => console.log(msg),
});
console.log(`${direction}: ${ran.length} migration(s) ${ran.map((m) => m.name).join(', ')}`);
