// `npm run db:seed`: loads the development data (idempotent) and prints the development logins.
import { initOrm } from '../server/db/orm.js';
import { loadEnvOrExit } from '../server/env.js';
import { DatabaseSeeder, SEED_USERS } from './DatabaseSeeder.js';

const { env } = loadEnvOrExit();
if (env.NODE_ENV === 'production') {
  process.stderr.write(
    'Refusing to seed: these are development accounts with published passwords (NODE_ENV=production).\n',
  );
  process.exit(1);
}

const orm = await initOrm(env);
try {
  const seeder = new DatabaseSeeder();
  await orm.em.fork().transactional((em) => seeder.run(em));
  const { users, agents, messages } = seeder.report.created;
  console.log(
    `Seeded: ${users} user(s), ${agents} agent(s), ${messages} message(s) created (the rest already existed).`,
  );
  console.log('\nDevelopment logins:');
  for (const u of SEED_USERS) {
    console.log(`  ${u.username.padEnd(10)} ${u.password.padEnd(16)} ${u.isSuperuser ? '(superuser)' : ''}`);
  }
} finally {
  await orm.close();
}
